"""The clinic, patient and prescriber admin (rx/admin/people.py): who may open it, and the audit
of patients changed there."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client

from rx.models import AuditLog, ClinicMembership, Patient
from tests.core.factories import UserFactory
from tests.rx.admin_helpers import admin_form_data

pytestmark = pytest.mark.django_db


def test_staff_without_the_pharmacist_group_gets_no_patient_admin_even_with_model_permissions(clinical, cast):
    client = Client()
    user = UserFactory(username="support", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rx", codename__in=["view_patient", "change_patient", "add_patient"]
        )
    )
    client.force_login(user)
    cast.patient_a.account = user
    cast.patient_a.save()
    assert client.get("/admin/rx/patient/").status_code == 403
    assert client.get(f"/admin/rx/patient/{cast.patient_a.pk}/change/").status_code in (302, 403, 404)
    assert not AuditLog.objects.filter(object_type="rx.patient").exists()


def test_staff_with_clinic_permissions_cannot_add_themselves_to_a_clinic(clinical, cast):
    user = UserFactory(username="support", is_staff=True)
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="rx",
            codename__in=["view_clinic", "change_clinic", "add_clinicmembership", "change_clinicmembership"],
        )
    )
    client = Client()
    client.force_login(user)
    url = f"/admin/rx/clinic/{cast.clinic_b.pk}/change/"
    assert client.get(url).status_code in (302, 403, 404)
    assert not ClinicMembership.objects.filter(user=user).exists()


def test_a_patient_changed_or_added_in_the_admin_gets_one_audit_row_naming_the_fields(cast):
    client = Client()
    client.force_login(cast.admin)
    url = f"/admin/rx/patient/{cast.patient_a.pk}/change/"
    data = admin_form_data(client.get(url))
    data["allergies"] = "penicillin"
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    assert list(
        AuditLog.objects.filter(object_type="rx.patient", action__in=["change", "create"]).values_list(
            "username", "action", "object_id", "detail"
        )
    ) == [("admin", "change", str(cast.patient_a.pk), "admin: allergies")]
    added = admin_form_data(client.get("/admin/rx/patient/add/"))
    added.update(account=cast.shopper_b.pk, first_name="Nia", last_name="New", date_of_birth="2001-02-03")
    assert client.post("/admin/rx/patient/add/", added).status_code == 302
    new = Patient.objects.get(first_name="Nia")
    row = AuditLog.objects.get(object_type="rx.patient", action="create")
    assert (row.object_id, row.user, row.path) == (str(new.pk), cast.admin, "/admin/rx/patient/add/")
    assert row.detail.startswith("admin: ") and "first_name" in row.detail
