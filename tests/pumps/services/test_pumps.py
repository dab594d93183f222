"""The pump writes (pumps.services.pumps) on PostgreSQL: validation that names the field and saves nothing,
the stored schedule recomputed on every change, and the PHI audit row of a write made for a request."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from core.errors import Conflict
from pumps.models import Pump, PumpRefill
from pumps.selectors import pumps_due_for_kit
from pumps.services import pumps as pump_services
from rx.models import AuditLog
from tests.core.factories import UserFactory
from tests.pumps.fixtures import UTC, clinic_patient, clinic_with_staff, days, make_pump, ny
from tests.rx.factories import PatientFactory

pytestmark = pytest.mark.django_db

FILL = ny(2025, 1, 6, 10, 0)


def test_pump_create_fills_manufacturer_and_reservoir_from_the_model():
    pump = make_pump(model="prometra-40")
    assert (pump.manufacturer, pump.reservoir_volume_ml) == ("flowonix", Decimal("40"))


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"model": "8637-99"}, "model"),
        ({"alarm_volume_ml": Decimal("0")}, "alarm_volume_ml"),
        ({"alarm_volume_ml": Decimal("20")}, "alarm_volume_ml"),
        ({"reservoir_volume_ml": Decimal("30")}, "reservoir_volume_ml"),
        ({"manufacturer": "flowonix"}, "manufacturer"),
        ({"battery_replacement_on": date(2020, 1, 1)}, "battery_replacement_on"),
        ({"implanted_on": date(9999, 12, 31)}, "implanted_on"),
        ({"implanted_on": date.today() + timedelta(days=2)}, "implanted_on"),
        ({"implanted_on": date(1979, 12, 31)}, "implanted_on"),
        ({"implanted_on": date(1, 1, 1)}, "implanted_on"),
        ({"battery_replacement_on": date(9999, 12, 31)}, "battery_replacement_on"),
        ({"battery_replacement_on": date(2039, 6, 2)}, "battery_replacement_on"),  # implant 2024-06-01 + 15 years
    ],
)
def test_pump_create_refuses_invalid_pumps_and_saves_nothing(kwargs, field):
    clinic, _ = clinic_with_staff()
    args = {
        "patient": clinic_patient(clinic),
        "model": "8637-20",
        "serial_number": "X1",
        "alarm_volume_ml": Decimal("2"),
        "implanted_on": date(2024, 6, 1),
        **kwargs,
    }
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_create(**args)
    assert field in excinfo.value.message_dict
    assert not Pump.objects.exists()


def test_pump_create_accepts_the_boundary_dates():
    clinic, _ = clinic_with_staff()
    pump = pump_services.pump_create(
        patient=clinic_patient(clinic),
        model="8637-20",
        serial_number="B1",
        alarm_volume_ml=Decimal("2"),
        implanted_on=date(1980, 1, 1),
        battery_replacement_on=date(1995, 1, 1),
        now=FILL,
    )
    assert (pump.implanted_on, pump.battery_replacement_on) == (date(1980, 1, 1), date(1995, 1, 1))
    today = pump_services.pump_create(
        patient=clinic_patient(clinic),
        model="8637-20",
        serial_number="B2",
        alarm_volume_ml=Decimal("2"),
        implanted_on=FILL.date(),
        now=FILL,
    )
    assert today.implanted_on == date(2025, 1, 6)


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"implanted_on": date(9999, 12, 31)}, "implanted_on"),
        ({"implanted_on": date(1900, 1, 1)}, "implanted_on"),
        ({"implanted_on": date(2025, 1, 7)}, "implanted_on"),  # after the first refill and program (2025-01-06)
        ({"battery_replacement_on": date(9999, 12, 31)}, "battery_replacement_on"),
        ({"battery_replacement_on": date(2024, 5, 31)}, "battery_replacement_on"),
    ],
)
def test_pump_update_refuses_implausible_dates_and_saves_nothing(changes, field):
    pump = make_pump(fill_at=FILL)
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_update(pump=pump, now=FILL + days(2), **changes)
    assert field in excinfo.value.message_dict
    pump.refresh_from_db()
    assert (pump.implanted_on, pump.battery_replacement_on) == (date(2024, 6, 1), None)


def test_serial_number_is_unique_per_manufacturer():
    clinic, _ = clinic_with_staff()
    make_pump(clinic, serial="A1", model="8637-20")
    make_pump(clinic, serial="A1", model="prometra-20")  # another manufacturer: fine
    with pytest.raises(ValidationError) as excinfo:
        make_pump(clinic, serial="A1", model="8637-40")
    assert "serial_number" in excinfo.value.message_dict
    assert Pump.objects.count() == 2


def test_pump_for_a_shoppers_patient_is_refused():
    with pytest.raises(ValidationError):
        pump_services.pump_create(
            patient=PatientFactory(),
            model="8637-20",
            serial_number="S",
            alarm_volume_ml=Decimal("2"),
            implanted_on=date(2024, 1, 1),
        )
    assert not Pump.objects.exists()


def test_program_change_recomputes_the_schedule():
    pump = make_pump(fill_at=FILL)
    pump_services.pump_program_set(
        pump=pump,
        daily_dose_mcg=Decimal("1000"),
        concentration_mcg_per_ml=Decimal("2000"),
        effective_at=FILL + days(20),
        now=FILL + days(20),
    )
    pump.refresh_from_db()
    assert pump.alarm_date == date(2025, 2, 21)
    assert pump.flow_ml_per_day == Decimal("0.5")
    assert pump.schedule_computed_at == FILL + days(20)


def test_refill_recomputes_and_closes_the_appointment_it_covers():
    pump = make_pump(fill_at=FILL, appointment_at=ny(2025, 3, 12, 9, 0))
    assert pump.next_appointment_at == ny(2025, 3, 12, 9, 0)
    refill_at = ny(2025, 3, 12, 9, 30)
    pump_services.pump_refill_record(
        pump=pump,
        filled_at=refill_at,
        volume_filled_ml=Decimal("18"),
        concentration_mcg_per_ml=Decimal("2000"),
        residual_withdrawn_ml=Decimal("3.2"),
        now=refill_at,
    )
    pump.refresh_from_db()
    assert pump.appointments.get().status == "done"
    assert pump.next_appointment_at is None
    assert pump.alarm_date == date(2025, 5, 15)  # 16 mL / 0.25 = 64 days after 12 March
    assert pump.current_refill.filled_at == refill_at


def test_appointment_recomputes_and_replaces_the_scheduled_one():
    pump = make_pump(fill_at=FILL)
    first = pump_services.pump_appointment_set(pump=pump, scheduled_at=ny(2025, 3, 12, 9, 0), now=FILL)
    pump_services.pump_appointment_set(pump=pump, scheduled_at=ny(2025, 3, 20, 9, 0), now=FILL)
    pump.refresh_from_db()
    first.refresh_from_db()
    assert first.status == "cancelled"
    assert pump.has_critical_warning
    assert "appointment_after_alarm" in [w["code"] for w in pump.warnings]
    assert pump.need_by == date(2025, 3, 18)


def test_appointment_cancelled_recomputes():
    pump = make_pump(fill_at=FILL, appointment_at=ny(2025, 3, 12, 9, 0))
    appointment = pump.appointments.get()
    pump_services.pump_appointment_status_set(appointment=appointment, status="cancelled", now=FILL)
    pump.refresh_from_db()
    assert pump.next_appointment_at is None
    assert [w["code"] for w in pump.warnings] == ["no_appointment"]
    with pytest.raises(Exception) as excinfo:
        pump_services.pump_appointment_status_set(appointment=appointment, status="done", now=FILL)
    assert excinfo.value.code == "invalid_transition"


def test_pump_update_recomputes_from_the_new_alarm_volume_and_battery():
    pump = make_pump(fill_at=FILL)
    pump = pump_services.pump_update(
        pump=pump, alarm_volume_ml=Decimal("4"), battery_replacement_on=date(2025, 3, 1), now=FILL
    )
    assert pump.alarm_date == date(2025, 3, 11)  # 16 mL / 0.25 = 64 days
    assert "battery_before_refill" in [w["code"] for w in pump.warnings]


def test_pump_deactivated_leaves_the_scan():
    pump = make_pump(fill_at=FILL)
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))) == [pump]
    pump_services.pump_deactivate(pump=pump, now=FILL)
    assert not pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7)).exists()
    assert PumpRefill.objects.filter(pump=pump).exists()


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"volume_filled_ml": Decimal("20.5")}, "volume_filled_ml"),
        ({"volume_filled_ml": Decimal("0")}, "volume_filled_ml"),
        ({"concentration_mcg_per_ml": Decimal("0")}, "concentration_mcg_per_ml"),
        ({"residual_withdrawn_ml": Decimal("-1")}, "residual_withdrawn_ml"),
        ({"filled_at": FILL + days(2)}, "filled_at"),
        ({"filled_at": FILL + days(1) + timedelta(minutes=6)}, "filled_at"),  # beyond the 5-minute clock skew
        ({"filled_at": datetime(1, 1, 1, tzinfo=UTC)}, "filled_at"),
        ({"filled_at": ny(2024, 5, 31, 23, 0)}, "filled_at"),  # the day before the implant (2024-06-01)
    ],
)
def test_refill_validation_names_the_field_and_saves_nothing(kwargs, field):
    pump = make_pump(fill_at=FILL)
    before = pump.schedule_computed_at
    args = {
        "pump": pump,
        "filled_at": FILL + days(1),
        "volume_filled_ml": Decimal("20"),
        "concentration_mcg_per_ml": Decimal("2000"),
        "now": FILL + days(1),
        **kwargs,
    }
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_refill_record(**args)
    assert field in excinfo.value.message_dict
    assert pump.refills.count() == 1
    pump.refresh_from_db()
    assert pump.schedule_computed_at == before


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"daily_dose_mcg": Decimal("0")}, "daily_dose_mcg"),
        ({"daily_dose_mcg": Decimal("-5")}, "daily_dose_mcg"),
        ({"daily_dose_mcg": Decimal("20000")}, "daily_dose_mcg"),
        ({"concentration_mcg_per_ml": Decimal("0")}, "concentration_mcg_per_ml"),
        ({"effective_at": FILL}, "effective_at"),  # a program already starts then
        ({"effective_at": datetime(1, 1, 1, tzinfo=UTC)}, "effective_at"),
        ({"effective_at": datetime(9999, 12, 31, tzinfo=UTC)}, "effective_at"),
        ({"effective_at": ny(2024, 5, 31, 23, 0)}, "effective_at"),  # the day before the implant
        ({"effective_at": FILL + days(3) + days(367)}, "effective_at"),  # more than a year ahead
    ],
)
def test_program_validation_names_the_field_and_saves_nothing(kwargs, field):
    pump = make_pump(fill_at=FILL)
    args = {
        "pump": pump,
        "daily_dose_mcg": Decimal("600"),
        "concentration_mcg_per_ml": Decimal("2000"),
        "effective_at": FILL + days(3),
        "now": FILL + days(3),
        **kwargs,
    }
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_program_set(**args)
    assert field in excinfo.value.message_dict
    assert pump.programs.count() == 1


def test_refill_and_program_on_the_implant_day_and_within_the_skew_are_accepted():
    pump = make_pump()
    now = FILL + days(1)
    refill = pump_services.pump_refill_record(
        pump=pump,
        filled_at=now + timedelta(minutes=4),
        volume_filled_ml=Decimal("20"),
        concentration_mcg_per_ml=Decimal("2000"),
        now=now,
    )
    first = pump_services.pump_program_set(
        pump=pump,
        daily_dose_mcg=Decimal("500"),
        concentration_mcg_per_ml=Decimal("2000"),
        effective_at=ny(2024, 6, 1, 0, 30),
        now=now,
    )
    ahead = pump_services.pump_program_set(
        pump=pump,
        daily_dose_mcg=Decimal("600"),
        concentration_mcg_per_ml=Decimal("2000"),
        effective_at=now + days(300),
        now=now,
    )
    assert refill.pk and first.pk and ahead.pk


def test_appointment_in_the_past_is_refused():
    pump = make_pump(fill_at=FILL)
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_appointment_set(pump=pump, scheduled_at=FILL - days(1), now=FILL)
    assert "scheduled_at" in excinfo.value.message_dict
    assert not pump.appointments.exists()


def test_a_write_made_for_a_request_is_audited_once_as_its_user_and_other_writes_are_not(rf):
    staff = UserFactory()
    request = rf.post("/api/v1/pumps/", REMOTE_ADDR="10.0.0.7")
    request.user = staff
    pump = make_pump(fill_at=FILL)
    assert not AuditLog.objects.exists()  # fixtures pass no request

    program = pump_services.pump_program_set(
        pump=pump,
        daily_dose_mcg=Decimal("600"),
        concentration_mcg_per_ml=Decimal("2000"),
        effective_at=FILL + days(3),
        user=staff,
        request=request,
        now=FILL + days(3),
    )
    pump_services.pump_update(
        pump=pump, notes="Checked.", alarm_volume_ml=Decimal("3"), request=request, now=FILL + days(3)
    )
    pump_services.pump_deactivate(pump=pump, request=request, now=FILL + days(3))

    rows = list(
        AuditLog.objects.order_by("id").values_list(
            "action", "object_type", "object_id", "detail", "user", "ip_address"
        )
    )
    assert rows == [
        ("create", "pumps.pumpprogram", str(program.pk), "", staff.pk, "10.0.0.7"),
        ("change", "pumps.pump", str(pump.pk), "alarm_volume_ml,notes", staff.pk, "10.0.0.7"),
        ("change", "pumps.pump", str(pump.pk), "deactivated", staff.pk, "10.0.0.7"),
    ]
    assert program.created_by == staff


def test_a_refused_write_leaves_no_audit_row(rf):
    request = rf.post("/api/v1/pumps/")
    request.user = UserFactory()
    pump = make_pump(fill_at=FILL, appointment_at=ny(2025, 3, 12, 9, 0))
    appointment = pump.appointments.get()
    pump_services.pump_appointment_status_set(appointment=appointment, status="cancelled", now=FILL)

    with pytest.raises(Conflict):
        pump_services.pump_appointment_status_set(appointment=appointment, status="done", request=request, now=FILL)
    same = pump_services.pump_appointment_status_set(
        appointment=appointment, status="cancelled", request=request, now=FILL
    )

    assert same.status == "cancelled"
    assert list(AuditLog.objects.values_list("action", "detail")) == [("change", "cancelled")]
