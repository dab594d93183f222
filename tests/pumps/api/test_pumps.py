"""The clinic and pump API (pumps.api.views.pumps): who sees what (two clinics, shopper, anonymous, pharmacist, admin),
validation errors that name the field, and the schedule endpoint."""

from datetime import timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils import timezone

from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.schedule.projection import local_event_date
from rx.access import PHARMACIST_GROUP
from rx.models import AuditLog, Patient, Prescription
from tests.core.factories import UserFactory
from tests.pumps.fixtures import client_for, clinic_patient, clinic_with_staff, make_pump
from tests.rx.factories import PatientFactory, PrescriptionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    clinic_a, staff_a = clinic_with_staff(name="Alpha Clinic")
    clinic_b, staff_b = clinic_with_staff(name="Beta Clinic")
    fill = timezone.now() - timedelta(days=10)
    pump_a = make_pump(clinic_a, fill_at=fill, now=timezone.now())
    pump_b = make_pump(clinic_b, fill_at=fill, now=timezone.now())
    pharmacist = UserFactory()
    pharmacist.groups.add(Group.objects.get_or_create(name=PHARMACIST_GROUP)[0])
    admin = UserFactory(is_superuser=True, is_staff=True)
    shopper = UserFactory()
    PatientFactory(account=shopper)
    return {
        "clinic_a": clinic_a,
        "staff_a": staff_a,
        "clinic_b": clinic_b,
        "staff_b": staff_b,
        "pump_a": pump_a,
        "pump_b": pump_b,
        "pharmacist": pharmacist,
        "admin": admin,
        "shopper": shopper,
    }


def pump_urls(pump):
    return [
        reverse(name, args=[pump.pk])
        for name in (
            "pumps-api:pump",
            "pumps-api:pump-programs",
            "pumps-api:pump-refills",
            "pumps-api:pump-appointments",
            "pumps-api:pump-schedule",
        )
    ]


# --- visibility ---------------------------------------------------------------------------


def test_staff_see_only_their_clinics(world):
    response = client_for(world["staff_a"]).get(reverse("pumps-api:clinics"))
    assert response.status_code == 200
    assert [c["name"] for c in response.json()["results"]] == ["Alpha Clinic"]


def test_admins_see_every_clinic(world):
    names = [c["name"] for c in client_for(world["admin"]).get(reverse("pumps-api:clinics")).json()["results"]]
    assert names == ["Alpha Clinic", "Beta Clinic"]


def test_a_pharmacist_sees_only_the_pumps_and_patients_of_prescriptions_in_review(world):
    """PHI: a pharmacist reads what is in review (rx.access), not every clinic's roster."""
    client = client_for(world["pharmacist"])
    assert client.get(reverse("pumps-api:clinics")).json()["results"] == []
    assert client.get(reverse("pumps-api:pump", args=[world["pump_a"].pk])).status_code == 404

    PrescriptionFactory(patient=world["pump_a"].patient, status=Prescription.Status.IN_REVIEW)
    other = clinic_patient(world["clinic_a"])

    assert [c["name"] for c in client.get(reverse("pumps-api:clinics")).json()["results"]] == ["Alpha Clinic"]
    patients = client.get(reverse("pumps-api:clinic-patients", args=[world["clinic_a"].pk])).json()["results"]
    assert [p["id"] for p in patients] == [world["pump_a"].patient_id]
    assert other.pk not in [p["id"] for p in patients]
    assert client.get(reverse("pumps-api:pump", args=[world["pump_a"].pk])).status_code == 200
    assert client.get(reverse("pumps-api:pump", args=[world["pump_b"].pk])).status_code == 404
    assert client.get(reverse("pumps-api:clinic-patients", args=[world["clinic_b"].pk])).status_code == 404


def test_shopper_sees_no_clinic(world):
    assert client_for(world["shopper"]).get(reverse("pumps-api:clinics")).json()["results"] == []


def test_anonymous_is_refused_everywhere(world):
    client = client_for()
    urls = [
        reverse("pumps-api:clinics"),
        reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk]),
        reverse("pumps-api:clinic-patients", args=[world["clinic_a"].pk]),
        *pump_urls(world["pump_a"]),
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code in (401, 403), url
        assert "serial_number" not in response.content.decode()


@pytest.mark.parametrize("who", ["staff_b", "shopper"])
def test_other_clinics_and_shoppers_get_404_for_every_pump_url(world, who):
    client = client_for(world[who])
    for url in pump_urls(world["pump_a"]):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {}, format="json").status_code in (404, 405), url
    assert client.get(reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk])).status_code == 404
    assert client.get(reverse("pumps-api:clinic-patients", args=[world["clinic_a"].pk])).status_code == 404
    assert client.delete(reverse("pumps-api:pump", args=[world["pump_a"].pk])).status_code == 404
    assert Pump.objects.get(pk=world["pump_a"].pk).active


def test_staff_read_their_pumps(world):
    client = client_for(world["staff_a"])
    for url in pump_urls(world["pump_a"]):
        assert client.get(url).status_code == 200, url
    listed = client.get(reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk])).json()["results"]
    assert [p["id"] for p in listed] == [world["pump_a"].pk]
    assert listed[0]["refill_due"] and listed[0]["ship_by"]


@pytest.mark.parametrize("who", ["pharmacist", "admin"])
def test_pharmacists_and_admins_read_but_do_not_change(world, who):
    client = client_for(world[who])
    pump = world["pump_a"]
    # A pharmacist reads a pump only while its patient has a prescription in review.
    PrescriptionFactory(patient=pump.patient, status=Prescription.Status.IN_REVIEW)
    for url in pump_urls(pump):
        assert client.get(url).status_code == 200, url
    response = client.post(
        reverse("pumps-api:pump-programs", args=[pump.pk]),
        {"daily_dose_mcg": "600", "concentration_mcg_per_ml": "2000"},
        format="json",
    )
    assert response.status_code == 403
    assert client.patch(reverse("pumps-api:pump", args=[pump.pk]), {"notes": "x"}, format="json").status_code == 403
    assert (
        client.post(
            reverse("pumps-api:clinic-patients", args=[world["clinic_a"].pk]),
            {"first_name": "A", "last_name": "B", "date_of_birth": "1970-01-01"},
            format="json",
        ).status_code
        == 403
    )
    assert pump.programs.count() == 1


def test_views_and_changes_are_audited(world):
    client = client_for(world["staff_a"])
    pump = world["pump_a"]
    client.get(reverse("pumps-api:pump-schedule", args=[pump.pk]))
    client.post(
        reverse("pumps-api:pump-programs", args=[pump.pk]),
        {"daily_dose_mcg": "550", "concentration_mcg_per_ml": "2000"},
        format="json",
    )
    rows = AuditLog.objects.filter(user=world["staff_a"])
    assert rows.filter(action="view", object_type="pumps.pump", object_id=str(pump.pk), detail="schedule").exists()
    assert rows.filter(action="create", object_type="pumps.pumpprogram").exists()


def test_every_read_and_change_writes_exactly_its_audit_rows(world):
    client = client_for(world["staff_a"])
    pump, clinic = world["pump_a"], world["clinic_a"]
    appointment = client.post(
        reverse("pumps-api:pump-appointments", args=[pump.pk]),
        {"scheduled_at": (timezone.now() + timedelta(days=30)).isoformat()},
        format="json",
    ).json()
    client.get(reverse("pumps-api:clinic-pumps", args=[clinic.pk]))
    client.get(reverse("pumps-api:clinic-patients", args=[clinic.pk]))
    client.get(reverse("pumps-api:pump", args=[pump.pk]))
    client.get(reverse("pumps-api:pump-refills", args=[pump.pk]))
    client.patch(reverse("pumps-api:pump", args=[pump.pk]), {"notes": "Seen."}, format="json")
    client.patch(
        reverse("pumps-api:pump-appointment", args=[pump.pk, appointment["id"]]), {"status": "done"}, format="json"
    )
    client.delete(reverse("pumps-api:pump", args=[pump.pk]))

    rows = list(
        AuditLog.objects.filter(user=world["staff_a"])
        .order_by("id")
        .values_list("action", "object_type", "object_id", "detail")
    )
    assert rows == [
        ("create", "pumps.refillappointment", str(appointment["id"]), ""),
        ("view", "pumps.pump", str(pump.pk), f"clinic {clinic.pk} pump list"),
        ("view", "rx.patient", str(pump.patient_id), f"clinic {clinic.pk} patient list"),
        ("view", "pumps.pump", str(pump.pk), ""),
        ("view", "pumps.pump", str(pump.pk), "refills"),
        ("change", "pumps.pump", str(pump.pk), "notes"),
        ("change", "pumps.refillappointment", str(appointment["id"]), "done"),
        ("change", "pumps.pump", str(pump.pk), "deactivated"),
    ]


def test_a_refused_change_writes_no_audit_row(world):
    client = client_for(world["staff_a"])
    pump = world["pump_a"]

    response = client.post(
        reverse("pumps-api:pump-programs", args=[pump.pk]),
        {"daily_dose_mcg": "0", "concentration_mcg_per_ml": "2000"},
        format="json",
    )

    assert response.status_code == 400
    assert not AuditLog.objects.filter(user=world["staff_a"]).exists()


# --- patients and pumps -------------------------------------------------------------------


def test_staff_add_a_clinic_patient_and_a_pump(world):
    client = client_for(world["staff_a"])
    clinic = world["clinic_a"]
    response = client.post(
        reverse("pumps-api:clinic-patients", args=[clinic.pk]),
        {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1970-12-10", "sex": "F"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    patient = Patient.objects.get(pk=response.json()["id"])
    assert patient.clinic == clinic and patient.account is None
    response = client.post(
        reverse("pumps-api:clinic-pumps", args=[clinic.pk]),
        {
            "patient": patient.pk,
            "model": "8637-40",
            "serial_number": "NGV123",
            "alarm_volume_ml": "2.5",
            "implanted_on": "2024-02-01",
            "battery_replacement_on": "2030-02-01",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["manufacturer"] == "medtronic" and body["reservoir_volume_ml"] == "40.00"
    assert body["has_critical_warning"] is True  # no refill or program yet
    assert body["warnings"][0]["code"] == "schedule_incomplete"


def test_clinic_patient_created_through_the_service_is_audited_once_and_bad_input_names_the_field(world):
    client = client_for(world["staff_a"])
    url = reverse("pumps-api:clinic-patients", args=[world["clinic_a"].pk])
    before = Patient.objects.count()
    response = client.post(
        url, {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "not-a-date", "sex": "F"}, format="json"
    )
    assert response.status_code == 400 and "date_of_birth" in response.json()["errors"], response.json()
    assert Patient.objects.count() == before
    future = client.post(
        url, {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "2999-01-01", "sex": "F"}, format="json"
    )
    assert future.status_code == 400 and "date_of_birth" in future.json()["errors"], future.json()
    assert Patient.objects.count() == before
    response = client.post(
        url, {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": "1970-12-10", "sex": "F"}, format="json"
    )
    assert response.status_code == 201, response.json()
    assert response.json()["pump_count"] == 0
    created = AuditLog.objects.filter(action=AuditLog.Action.CREATE, object_id=str(response.json()["id"]))
    assert created.count() == 1 and created.get().username == world["staff_a"].username


def test_pump_for_another_clinics_patient_is_refused(world):
    other = clinic_patient(world["clinic_b"])
    response = client_for(world["staff_a"]).post(
        reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk]),
        {
            "patient": other.pk,
            "model": "8637-20",
            "serial_number": "Z9",
            "alarm_volume_ml": "2",
            "implanted_on": "2024-02-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "patient" in response.json()["errors"]
    assert not Pump.objects.filter(serial_number="Z9").exists()


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"model": "nope"}, "model"),
        ({"alarm_volume_ml": "0"}, "alarm_volume_ml"),
        ({"alarm_volume_ml": "25"}, "alarm_volume_ml"),
        ({"reservoir_volume_ml": "30"}, "reservoir_volume_ml"),
        ({"implanted_on": "yesterday"}, "implanted_on"),
        ({"serial_number": ""}, "serial_number"),
        ({"implanted_on": "9999-12-31"}, "implanted_on"),
        ({"implanted_on": "1970-01-01"}, "implanted_on"),
        ({"battery_replacement_on": "9999-12-31"}, "battery_replacement_on"),
        ({"battery_replacement_on": "2023-12-31"}, "battery_replacement_on"),
    ],
)
def test_bad_pump_input_is_a_400_naming_the_field(world, payload, field):
    patient = clinic_patient(world["clinic_a"])
    data = {
        "patient": patient.pk,
        "model": "8637-20",
        "serial_number": "Q1",
        "alarm_volume_ml": "2",
        "implanted_on": "2024-02-01",
        **payload,
    }
    response = client_for(world["staff_a"]).post(
        reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk]), data, format="json"
    )
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]
    assert not Pump.objects.filter(patient=patient).exists()


def test_duplicate_serial_is_a_400_naming_serial_number(world):
    pump = world["pump_a"]
    patient = clinic_patient(world["clinic_a"])
    response = client_for(world["staff_a"]).post(
        reverse("pumps-api:clinic-pumps", args=[world["clinic_a"].pk]),
        {
            "patient": patient.pk,
            "model": pump.model,
            "serial_number": pump.serial_number,
            "alarm_volume_ml": "2",
            "implanted_on": "2024-02-01",
        },
        format="json",
    )
    assert response.status_code == 400
    assert "serial_number" in response.json()["errors"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"implanted_on": "9999-12-31"}, "implanted_on"),
        ({"battery_replacement_on": "9999-12-31"}, "battery_replacement_on"),
    ],
)
def test_patch_with_implausible_pump_dates_is_a_400_naming_the_field(world, payload, field):
    pump = world["pump_a"]
    response = client_for(world["staff_a"]).patch(reverse("pumps-api:pump", args=[pump.pk]), payload, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert field in response.json()["detail"]
    pump.refresh_from_db()
    assert (str(pump.implanted_on), pump.battery_replacement_on) == ("2024-06-01", None)


def test_patch_pump_recomputes_and_delete_retires(world):
    client = client_for(world["staff_a"])
    pump = world["pump_a"]
    before = pump.alarm_date
    response = client.patch(reverse("pumps-api:pump", args=[pump.pk]), {"alarm_volume_ml": "4"}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["alarm_date"] == str(before - timedelta(days=8))
    assert client.delete(reverse("pumps-api:pump", args=[pump.pk])).status_code == 204
    pump.refresh_from_db()
    assert pump.active is False


# --- programs, refills, appointments --------------------------------------------------------


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"daily_dose_mcg": "0"}, "daily_dose_mcg"),
        ({"daily_dose_mcg": "-100"}, "daily_dose_mcg"),
        ({"daily_dose_mcg": "abc"}, "daily_dose_mcg"),
        ({"concentration_mcg_per_ml": "0"}, "concentration_mcg_per_ml"),
        ({"concentration_mcg_per_ml": "123456789"}, "concentration_mcg_per_ml"),
        ({"effective_at": "2025-13-01T00:00:00Z"}, "effective_at"),
        ({"effective_at": "0001-01-01T00:00:00Z"}, "effective_at"),
        ({"effective_at": "9999-12-31T00:00:00Z"}, "effective_at"),
    ],
)
def test_bad_program_is_a_400_naming_the_field(world, payload, field):
    pump = world["pump_a"]
    data = {"daily_dose_mcg": "600", "concentration_mcg_per_ml": "2000", **payload}
    url = reverse("pumps-api:pump-programs", args=[pump.pk])
    response = client_for(world["staff_a"]).post(url, data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert pump.programs.count() == 1


def test_program_post_recomputes_the_schedule(world):
    pump = world["pump_a"]
    client = client_for(world["staff_a"])
    response = client.post(
        reverse("pumps-api:pump-programs", args=[pump.pk]),
        {"daily_dose_mcg": "1000", "concentration_mcg_per_ml": "2000"},
        format="json",
    )
    assert response.status_code == 201, response.json()
    schedule = client.get(reverse("pumps-api:pump-schedule", args=[pump.pk])).json()
    assert schedule["flow_ml_per_day"] == "0.5"
    pump.refresh_from_db()
    assert str(pump.alarm_date) == schedule["alarm_date"]


@pytest.mark.parametrize(
    "payload, field",
    [
        ({"volume_filled_ml": "25"}, "volume_filled_ml"),
        ({"volume_filled_ml": "0"}, "volume_filled_ml"),
        ({"concentration_mcg_per_ml": "-5"}, "concentration_mcg_per_ml"),
        ({"filled_at": "2099-01-01T10:00:00Z"}, "filled_at"),
        ({"filled_at": None}, "filled_at"),
        ({"filled_at": "0001-01-01T00:00:00Z"}, "filled_at"),
        ({"filled_at": "2024-05-31T12:00:00Z"}, "filled_at"),  # before the implant (2024-06-01)
    ],
)
def test_bad_refill_is_a_400_naming_the_field(world, payload, field):
    pump = world["pump_a"]
    data = {
        "filled_at": (timezone.now() - timedelta(hours=1)).isoformat(),
        "volume_filled_ml": "20",
        "concentration_mcg_per_ml": "2000",
        **payload,
    }
    response = client_for(world["staff_a"]).post(reverse("pumps-api:pump-refills", args=[pump.pk]), data, format="json")
    assert response.status_code == 400, response.json()
    assert field in response.json()["errors"]
    assert PumpRefill.objects.filter(pump=pump).count() == 1


def test_refill_post_records_and_recomputes(world):
    pump = world["pump_a"]
    filled_at = timezone.now() - timedelta(hours=1)
    response = client_for(world["staff_a"]).post(
        reverse("pumps-api:pump-refills", args=[pump.pk]),
        {
            "filled_at": filled_at.isoformat(),
            "volume_filled_ml": "19.5",
            "concentration_mcg_per_ml": "2000",
            "residual_withdrawn_ml": "2.4",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    pump.refresh_from_db()
    assert pump.current_refill.volume_filled_ml == Decimal("19.5")
    # 17.5 mL above the alarm at 0.25 mL/day: 70 days.
    assert pump.alarm_date == local_event_date(
        start=filled_at, moment=filled_at + timedelta(days=70), zone=ZoneInfo(pump.patient.clinic.time_zone)
    )


def test_appointment_must_be_in_the_future(world):
    pump = world["pump_a"]
    client = client_for(world["staff_a"])
    past = (timezone.now() - timedelta(hours=1)).isoformat()
    url = reverse("pumps-api:pump-appointments", args=[pump.pk])
    response = client.post(url, {"scheduled_at": past}, format="json")
    assert response.status_code == 400
    assert "scheduled_at" in response.json()["errors"]
    assert not RefillAppointment.objects.filter(pump=pump).exists()


def test_late_appointment_is_flagged_in_the_schedule(world):
    pump = world["pump_a"]
    client = client_for(world["staff_a"])
    late = pump.alarm_at + timedelta(days=2)
    response = client.post(
        reverse("pumps-api:pump-appointments", args=[pump.pk]), {"scheduled_at": late.isoformat()}, format="json"
    )
    assert response.status_code == 201, response.json()
    schedule = client.get(reverse("pumps-api:pump-schedule", args=[pump.pk])).json()
    assert schedule["has_critical_warning"] is True
    assert {"code": "appointment_after_alarm", "severity": "critical"}.items() <= {
        k: v for w in schedule["warnings"] if w["code"] == "appointment_after_alarm" for k, v in w.items()
    }.items()
    appointment_id = response.json()["id"]
    response = client.patch(
        reverse("pumps-api:pump-appointment", args=[pump.pk, appointment_id]), {"status": "cancelled"}, format="json"
    )
    assert response.status_code == 200
    assert "appointment_after_alarm" not in [
        w["code"] for w in client.get(reverse("pumps-api:pump-schedule", args=[pump.pk])).json()["warnings"]
    ]


def test_schedule_endpoint_returns_every_date_and_the_seed_flow(world):
    pump = world["pump_a"]
    body = client_for(world["staff_a"]).get(reverse("pumps-api:pump-schedule", args=[pump.pk])).json()
    for key in (
        "alarm_date",
        "empty_date",
        "refill_due",
        "ship_by",
        "expected_delivery",
        "stability_limit_date",
        "flow_ml_per_day",
        "warnings",
    ):
        assert key in body
    assert body["flow_ml_per_day"] == "0.25"
    assert Decimal("17.49") <= Decimal(body["current_volume_ml"]) <= Decimal("17.5")  # 10 days at 0.25, rounded down
    assert [w["code"] for w in body["warnings"]] == ["no_appointment"]
    assert all(set(w) == {"code", "severity", "message"} for w in body["warnings"])
    assert PumpProgram.objects.filter(pump=pump).count() == 1
