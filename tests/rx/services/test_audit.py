"""The PHI audit log: every view and change of a patient, prescription or file is recorded with
who, what, when and from where; rows are append-only and readable only by superusers."""

import pytest
from django.core.files.base import ContentFile
from django.test import Client
from rest_framework.test import APIClient

from core.models import ImmutableRecordError
from rx.models import AuditLog, Prescription
from tests.rx.prescription_helpers import make_rx, png_bytes

pytestmark = pytest.mark.django_db
IP = "203.0.113.9"


@pytest.fixture
def rx(clinical, cast, private_media):
    return make_rx(
        cast.patient_a,
        clinical.tablet,
        user=cast.shopper_a,
        source=Prescription.Source.UPLOAD,
        file=ContentFile(png_bytes(), name="x.png"),
        file_content_type="image/png",
    )


@pytest.fixture
def api(cast):
    client = APIClient(REMOTE_ADDR=IP)
    client.force_authenticate(cast.shopper_a)
    return client


def rows(**filters):
    return list(
        AuditLog.objects.filter(**filters).values_list("username", "action", "object_type", "object_id", "ip_address")
    )


def test_creating_a_prescription_is_audited(rx, cast):
    assert rows(action="create") == [("shopper_a", "create", "rx.prescription", str(rx.pk), None)]


def test_listing_prescriptions_audits_each_one_shown(rx, cast, api, clinical):
    other = make_rx(cast.patient_a, clinical.tablet)
    api.get("/api/v1/prescriptions/")
    assert sorted(rows(action="view")) == sorted(
        [("shopper_a", "view", "rx.prescription", str(p.pk), IP) for p in (rx, other)]
    )
    assert AuditLog.objects.filter(action="view").first().path == "/api/v1/prescriptions/"


def test_viewing_a_prescription_is_audited_with_time_and_address(rx, api):
    api.get(f"/api/v1/prescriptions/{rx.pk}/")
    entry = AuditLog.objects.get(action="view")
    assert (entry.user.username, entry.object_id, entry.ip_address) == ("shopper_a", str(rx.pk), IP)
    assert entry.at is not None


def test_viewing_and_changing_a_patient_is_audited(cast, api):
    api.get("/api/v1/patients/")
    api.get(f"/api/v1/patients/{cast.patient_a.pk}/")
    api.patch(f"/api/v1/patients/{cast.patient_a.pk}/", {"is_lactating": True}, format="json")
    assert rows(object_type="rx.patient") == [
        ("shopper_a", "change", "rx.patient", str(cast.patient_a.pk), IP),
        ("shopper_a", "view", "rx.patient", str(cast.patient_a.pk), IP),
        ("shopper_a", "view", "rx.patient", str(cast.patient_a.pk), IP),
    ]
    assert "is_lactating" in AuditLog.objects.get(action="change").detail


def test_downloading_the_file_is_audited(rx, cast):
    client = Client(REMOTE_ADDR=IP)
    client.force_login(cast.pharmacist)
    assert client.get(f"/rx/prescriptions/{rx.pk}/file/").status_code == 200
    assert rows(action="download") == [("pharmacist", "download", "rx.prescription", str(rx.pk), IP)]


def test_refused_requests_disclose_nothing_and_log_no_view(rx, cast):
    client = Client()
    client.force_login(cast.shopper_b)
    assert client.get(f"/rx/prescriptions/{rx.pk}/file/").status_code == 404
    assert not AuditLog.objects.filter(action__in=["view", "download"]).exists()


def test_decisions_are_audited_as_changes(rx, cast):
    from rx.services.verification import prescription_reject

    prescription_reject(prescription_id=rx.pk, pharmacist=cast.pharmacist, reason="Illegible.")
    assert rows(action="change") == [("pharmacist", "change", "rx.prescription", str(rx.pk), None)]


def test_audit_rows_cannot_be_changed_or_deleted(rx):
    entry = AuditLog.objects.get()
    entry.username = "someone else"
    with pytest.raises(ImmutableRecordError):
        entry.save()
    with pytest.raises(ImmutableRecordError):
        entry.delete()
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.update(username="x")
    with pytest.raises(ImmutableRecordError):
        AuditLog.objects.all().delete()
    assert AuditLog.objects.get().username == "shopper_a"


# --- admin --------------------------------------------------------------------------------------


def test_only_superusers_can_read_the_audit_log_in_the_admin(rx, cast):
    entry = AuditLog.objects.get()
    client = Client()
    client.force_login(cast.admin)
    assert client.get("/admin/rx/auditlog/").status_code == 200
    assert client.get(f"/admin/rx/auditlog/{entry.pk}/change/").status_code == 200
    client.force_login(cast.pharmacist)
    assert client.get("/admin/rx/auditlog/").status_code == 403
    assert client.get(f"/admin/rx/auditlog/{entry.pk}/change/").status_code == 403


def test_nobody_can_add_change_or_delete_audit_rows_in_the_admin(rx, cast):
    entry = AuditLog.objects.get()
    client = Client()
    client.force_login(cast.admin)
    assert client.get("/admin/rx/auditlog/add/").status_code == 403
    assert client.post(f"/admin/rx/auditlog/{entry.pk}/change/", {"username": "x"}).status_code == 403
    assert client.post(f"/admin/rx/auditlog/{entry.pk}/delete/", {"post": "yes"}).status_code == 403
    page = client.get(f"/admin/rx/auditlog/{entry.pk}/change/").content.decode()
    assert 'name="_save"' not in page
    assert AuditLog.objects.filter(pk=entry.pk, username="shopper_a").exists()
