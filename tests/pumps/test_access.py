"""Who may see and change a clinic, its pumps, kit orders and kit alerts (pumps.access), asked directly:
staff of the clinic, another clinic's staff, a pharmacist (only what is in review), a superuser
(reads everything, changes nothing) and an anonymous visitor."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import RequestFactory

from core.errors import NotFound
from pumps import access
from pumps.models import KitOrder
from rx.models import AuditLog, Prescription
from tests.core.factories import UserFactory
from tests.pumps.fixtures import clinic_patient, clinic_with_staff, make_pump, pharmacist
from tests.rx.factories import PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people():
    clinic, staff = clinic_with_staff(name="Alpha")
    other_clinic, other_staff = clinic_with_staff(name="Beta")
    pump = make_pump(clinic)
    return type(
        "People",
        (),
        {
            "clinic": clinic,
            "staff": staff,
            "other_clinic": other_clinic,
            "other_staff": other_staff,
            "pump": pump,
            "pharmacist": pharmacist(),
            "admin": UserFactory(is_staff=True, is_superuser=True),
            "anonymous": AnonymousUser(),
        },
    )


def test_clinic_staff_see_and_change_their_clinic_and_its_pumps(people):
    assert access.clinic_for(people.staff, people.clinic.pk, manage=True) == people.clinic
    assert access.pump_for(people.staff, people.pump.pk, manage=True) == people.pump
    assert list(access.clinics_visible_to(people.staff)) == [people.clinic]
    assert list(access.pumps_visible_to(people.staff)) == [people.pump]
    assert access.can_manage_pump(people.staff, people.pump)


def test_another_clinics_staff_and_anonymous_visitors_are_told_nothing_exists(people):
    for user in (people.other_staff, people.anonymous):
        with pytest.raises(NotFound):
            access.clinic_for(user, people.clinic.pk)
        with pytest.raises(NotFound):
            access.pump_for(user, people.pump.pk)
        assert not access.can_manage_pump(user, people.pump)
    assert not access.pumps_visible_to(people.anonymous).exists()
    with pytest.raises(NotFound):
        access.pump_for(people.staff, "not-a-number")


def test_a_superuser_reads_every_clinic_and_pump_but_changes_none(people):
    assert set(access.clinics_visible_to(people.admin)) == {people.clinic, people.other_clinic}
    assert access.pump_for(people.admin, people.pump.pk) == people.pump
    with pytest.raises(access.ChangeRefused) as refused:
        access.pump_for(people.admin, people.pump.pk, manage=True)
    assert (refused.value.status_code, refused.value.code) == (403, "permission_denied")
    with pytest.raises(access.ChangeRefused):
        access.clinic_for(people.admin, people.clinic.pk, manage=True)


def test_a_pharmacist_reads_only_the_pumps_and_patients_of_prescriptions_in_review(people):
    other_patient = clinic_patient(people.clinic)
    with pytest.raises(NotFound):
        access.pump_for(people.pharmacist, people.pump.pk)

    PrescriptionFactory(patient=people.pump.patient, status=Prescription.Status.IN_REVIEW)

    assert access.pump_for(people.pharmacist, people.pump.pk) == people.pump
    assert list(access.clinics_visible_to(people.pharmacist)) == [people.clinic]
    assert list(access.clinic_patients_visible_to(people.pharmacist, people.clinic)) == [people.pump.patient]
    assert other_patient in access.clinic_patients_visible_to(people.staff, people.clinic)
    with pytest.raises(access.ChangeRefused):
        access.pump_for(people.pharmacist, people.pump.pk, manage=True)


def test_kit_orders_are_for_the_clinics_own_staff_only(people):
    assert access.clinic_for_staff(people.staff, people.clinic.pk) == people.clinic
    for user in (people.other_staff, people.pharmacist, people.admin, people.anonymous):
        with pytest.raises(NotFound):
            access.clinic_for_staff(user, people.clinic.pk)
    kit = KitOrder(clinic=people.clinic)
    assert access.can_manage_kit_order(people.staff, kit)
    assert not any(access.can_manage_kit_order(u, kit) for u in (people.other_staff, people.admin, people.anonymous))


def test_kit_alerts_and_the_pump_admin_are_for_pharmacy_staff(people):
    assert access.is_pharmacy_staff(people.pharmacist) and access.is_pharmacy_staff(people.admin)
    assert not any(access.is_pharmacy_staff(u) for u in (people.staff, UserFactory(is_staff=True), people.anonymous))


def test_what_was_shown_is_recorded_one_view_row_per_object(people):
    request = RequestFactory().get("/clinics/", REMOTE_ADDR="10.0.0.9")
    request.user = people.staff
    second = make_pump(people.clinic)

    access.record_view(request, people.pump, detail="pump page")
    access.record_views(request, [people.pump, second], detail="dashboard")

    rows = list(AuditLog.objects.order_by("id").values_list("action", "object_type", "object_id", "detail", "path"))
    assert rows == [
        ("view", "pumps.pump", str(people.pump.pk), "pump page", "/clinics/"),
        ("view", "pumps.pump", str(people.pump.pk), "dashboard", "/clinics/"),
        ("view", "pumps.pump", str(second.pk), "dashboard", "/clinics/"),
    ]
