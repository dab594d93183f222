"""Pump models and services on PostgreSQL: constraints, validation, the stored schedule recomputed on
every change, the signal after commit, and the due-pump scan through its index."""

from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.selectors import pumps_at_risk, pumps_due_for_kit
from pumps.services import pumps as pump_services
from pumps.services.schedules import pump_schedule_compute, pump_schedules_refresh_due
from pumps.signals import pump_schedule_changed

from .pump_fixtures import UTC, clinic_patient, clinic_with_staff, days, make_pump, ny

pytestmark = pytest.mark.django_db

FILL = ny(2025, 1, 6, 10, 0)


# --- models and constraints -----------------------------------------------------------------

@pytest.mark.parametrize("zone", ["Mars/Olympus_Mons", "", "../etc/passwd", "America"])
def test_clinic_time_zone_must_be_a_known_zone(zone):
    from rx.models import Clinic

    with pytest.raises(ValidationError) as exc:
        Clinic(name="Bad zone clinic", time_zone=zone).full_clean()
    assert "time_zone" in exc.value.message_dict
    assert not Clinic.objects.filter(name="Bad zone clinic").exists()


def test_clinic_time_zone_accepts_an_iana_name():
    from rx.models import Clinic

    Clinic(name="Good zone clinic", time_zone="Europe/Berlin").full_clean()

def test_seed_pump_stores_its_schedule():
    pump = make_pump(fill_at=FILL)
    assert pump.flow_ml_per_day == Decimal("0.25")
    assert pump.alarm_date == date(2025, 3, 19)
    assert pump.empty_date == date(2025, 3, 27)
    assert pump.stability_limit_date == date(2025, 7, 5)
    assert pump.refill_due == date(2025, 3, 12)
    assert pump.ship_by == date(2025, 3, 7)
    assert pump.expected_delivery == date(2025, 3, 11)
    assert pump.current_refill == pump.refills.get()
    assert [w["code"] for w in pump.warnings] == ["no_appointment"]
    assert pump.has_critical_warning is False
    assert pump.schedule_computed_at == FILL


def test_new_pump_without_history_is_flagged_critical_and_not_due():
    pump = make_pump()
    assert pump.has_critical_warning
    assert [w["code"] for w in pump.warnings] == ["schedule_incomplete"]
    assert pump.ship_by is None
    assert list(pumps_at_risk()) == [pump]
    assert not pumps_due_for_kit(ship_by_on_or_before=date(2100, 1, 1)).exists()


def test_pump_create_fills_manufacturer_and_reservoir_from_the_model():
    pump = make_pump(model="prometra-40")
    assert (pump.manufacturer, pump.reservoir_volume_ml) == ("flowonix", Decimal("40"))


@pytest.mark.parametrize("kwargs, field", [
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
])
def test_pump_create_refuses_invalid_pumps_and_saves_nothing(kwargs, field):
    clinic, _ = clinic_with_staff()
    args = {"patient": clinic_patient(clinic), "model": "8637-20", "serial_number": "X1",
            "alarm_volume_ml": Decimal("2"), "implanted_on": date(2024, 6, 1), **kwargs}
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_create(**args)
    assert field in excinfo.value.message_dict
    assert not Pump.objects.exists()


def test_pump_create_accepts_the_boundary_dates():
    clinic, _ = clinic_with_staff()
    pump = pump_services.pump_create(patient=clinic_patient(clinic), model="8637-20", serial_number="B1",
                                     alarm_volume_ml=Decimal("2"), implanted_on=date(1980, 1, 1),
                                     battery_replacement_on=date(1995, 1, 1), now=FILL)
    assert (pump.implanted_on, pump.battery_replacement_on) == (date(1980, 1, 1), date(1995, 1, 1))
    today = pump_services.pump_create(patient=clinic_patient(clinic), model="8637-20", serial_number="B2",
                                      alarm_volume_ml=Decimal("2"), implanted_on=FILL.date(), now=FILL)
    assert today.implanted_on == date(2025, 1, 6)


@pytest.mark.parametrize("changes, field", [
    ({"implanted_on": date(9999, 12, 31)}, "implanted_on"),
    ({"implanted_on": date(1900, 1, 1)}, "implanted_on"),
    ({"implanted_on": date(2025, 1, 7)}, "implanted_on"),  # after the first refill and program (2025-01-06)
    ({"battery_replacement_on": date(9999, 12, 31)}, "battery_replacement_on"),
    ({"battery_replacement_on": date(2024, 5, 31)}, "battery_replacement_on"),
])
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
    from tests.factories import PatientFactory

    with pytest.raises(ValidationError):
        pump_services.pump_create(patient=PatientFactory(), model="8637-20", serial_number="S",
                                  alarm_volume_ml=Decimal("2"), implanted_on=date(2024, 1, 1))
    assert not Pump.objects.exists()


def test_database_refuses_bad_reservoirs_alarms_doses_and_volumes():
    pump = make_pump(fill_at=FILL)
    for update in ({"reservoir_volume_ml": 30}, {"alarm_volume_ml": 0}, {"alarm_volume_ml": 25},
                   {"model": "8637-40"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            Pump.objects.filter(pk=pump.pk).update(**update)
    for update in ({"daily_dose_mcg": 0}, {"concentration_mcg_per_ml": -1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PumpProgram.objects.filter(pump=pump).update(**update)
    with pytest.raises(IntegrityError), transaction.atomic():
        PumpRefill.objects.filter(pump=pump).update(volume_filled_ml=41)
    with pytest.raises(IntegrityError), transaction.atomic():
        RefillAppointment.objects.create(pump=pump, scheduled_at=FILL + days(60))
        RefillAppointment.objects.create(pump=pump, scheduled_at=FILL + days(61))


# --- services recompute on every change ---------------------------------------------------

def test_program_change_recomputes_the_schedule():
    pump = make_pump(fill_at=FILL)
    pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("1000"), concentration_mcg_per_ml=Decimal("2000"),
                                   effective_at=FILL + days(20), now=FILL + days(20))
    pump.refresh_from_db()
    assert pump.alarm_date == date(2025, 2, 21)
    assert pump.flow_ml_per_day == Decimal("0.5")
    assert pump.schedule_computed_at == FILL + days(20)


def test_refill_recomputes_and_closes_the_appointment_it_covers():
    pump = make_pump(fill_at=FILL, appointment_at=ny(2025, 3, 12, 9, 0))
    assert pump.next_appointment_at == ny(2025, 3, 12, 9, 0)
    refill_at = ny(2025, 3, 12, 9, 30)
    pump_services.pump_refill_record(pump=pump, filled_at=refill_at, volume_filled_ml=Decimal("18"),
                                     concentration_mcg_per_ml=Decimal("2000"), residual_withdrawn_ml=Decimal("3.2"),
                                     now=refill_at)
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
    pump = pump_services.pump_update(pump=pump, alarm_volume_ml=Decimal("4"), battery_replacement_on=date(2025, 3, 1),
                                     now=FILL)
    assert pump.alarm_date == date(2025, 3, 11)  # 16 mL / 0.25 = 64 days
    assert "battery_before_refill" in [w["code"] for w in pump.warnings]


def test_pump_deactivated_leaves_the_scan():
    pump = make_pump(fill_at=FILL)
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))) == [pump]
    pump_services.pump_deactivate(pump=pump, now=FILL)
    assert not pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7)).exists()
    assert PumpRefill.objects.filter(pump=pump).exists()


@pytest.mark.parametrize("kwargs, field", [
    ({"volume_filled_ml": Decimal("20.5")}, "volume_filled_ml"),
    ({"volume_filled_ml": Decimal("0")}, "volume_filled_ml"),
    ({"concentration_mcg_per_ml": Decimal("0")}, "concentration_mcg_per_ml"),
    ({"residual_withdrawn_ml": Decimal("-1")}, "residual_withdrawn_ml"),
    ({"filled_at": FILL + days(2)}, "filled_at"),
    ({"filled_at": FILL + days(1) + timedelta(minutes=6)}, "filled_at"),  # beyond the 5-minute clock skew
    ({"filled_at": datetime(1, 1, 1, tzinfo=UTC)}, "filled_at"),
    ({"filled_at": ny(2024, 5, 31, 23, 0)}, "filled_at"),  # the day before the implant (2024-06-01)
])
def test_refill_validation_names_the_field_and_saves_nothing(kwargs, field):
    pump = make_pump(fill_at=FILL)
    before = pump.schedule_computed_at
    args = {"pump": pump, "filled_at": FILL + days(1), "volume_filled_ml": Decimal("20"),
            "concentration_mcg_per_ml": Decimal("2000"), "now": FILL + days(1), **kwargs}
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_refill_record(**args)
    assert field in excinfo.value.message_dict
    assert pump.refills.count() == 1
    pump.refresh_from_db()
    assert pump.schedule_computed_at == before


@pytest.mark.parametrize("kwargs, field", [
    ({"daily_dose_mcg": Decimal("0")}, "daily_dose_mcg"),
    ({"daily_dose_mcg": Decimal("-5")}, "daily_dose_mcg"),
    ({"daily_dose_mcg": Decimal("20000")}, "daily_dose_mcg"),
    ({"concentration_mcg_per_ml": Decimal("0")}, "concentration_mcg_per_ml"),
    ({"effective_at": FILL}, "effective_at"),  # a program already starts then
    ({"effective_at": datetime(1, 1, 1, tzinfo=UTC)}, "effective_at"),
    ({"effective_at": datetime(9999, 12, 31, tzinfo=UTC)}, "effective_at"),
    ({"effective_at": ny(2024, 5, 31, 23, 0)}, "effective_at"),  # the day before the implant
    ({"effective_at": FILL + days(3) + days(367)}, "effective_at"),  # more than a year ahead
])
def test_program_validation_names_the_field_and_saves_nothing(kwargs, field):
    pump = make_pump(fill_at=FILL)
    args = {"pump": pump, "daily_dose_mcg": Decimal("600"), "concentration_mcg_per_ml": Decimal("2000"),
            "effective_at": FILL + days(3), "now": FILL + days(3), **kwargs}
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_program_set(**args)
    assert field in excinfo.value.message_dict
    assert pump.programs.count() == 1


def test_refill_and_program_on_the_implant_day_and_within_the_skew_are_accepted():
    pump = make_pump()
    now = FILL + days(1)
    refill = pump_services.pump_refill_record(pump=pump, filled_at=now + timedelta(minutes=4),
                                              volume_filled_ml=Decimal("20"),
                                              concentration_mcg_per_ml=Decimal("2000"), now=now)
    first = pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("500"),
                                           concentration_mcg_per_ml=Decimal("2000"),
                                           effective_at=ny(2024, 6, 1, 0, 30), now=now)
    ahead = pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("600"),
                                           concentration_mcg_per_ml=Decimal("2000"),
                                           effective_at=now + days(300), now=now)
    assert refill.pk and first.pk and ahead.pk


def test_appointment_in_the_past_is_refused():
    pump = make_pump(fill_at=FILL)
    with pytest.raises(ValidationError) as excinfo:
        pump_services.pump_appointment_set(pump=pump, scheduled_at=FILL - days(1), now=FILL)
    assert "scheduled_at" in excinfo.value.message_dict
    assert not pump.appointments.exists()


# --- the signal ---------------------------------------------------------------------------

def test_signal_is_sent_after_commit_with_the_pump_ids(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, pump_ids, **kwargs):
        received.append(pump_ids)

    pump = make_pump(fill_at=FILL)
    pump_schedule_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("600"),
                                           concentration_mcg_per_ml=Decimal("2000"), effective_at=FILL + days(3),
                                           now=FILL + days(3))
        assert received == []  # nothing before commit
        for callback in callbacks:
            callback()
        assert received == [[pump.pk]]
    finally:
        pump_schedule_changed.disconnect(receiver)


def test_no_signal_when_the_change_is_rolled_back(django_capture_on_commit_callbacks):
    pump = make_pump(fill_at=FILL)
    with django_capture_on_commit_callbacks() as callbacks:
        with pytest.raises(ValidationError):
            pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("0"),
                                           concentration_mcg_per_ml=Decimal("2000"), now=FILL)
    assert callbacks == []


# --- the scan -----------------------------------------------------------------------------

def _pumps_with_ship_dates():
    clinic, _ = clinic_with_staff()
    early = make_pump(clinic, fill_at=FILL)  # ship by 7 March
    late = make_pump(clinic, fill_at=FILL + days(30))  # ship by ~6 April
    slow = make_pump(clinic, fill_at=FILL, dose="100")  # 180-day limit: ship by late June
    return early, late, slow


def test_due_scan_returns_only_pumps_due_by_the_date():
    early, late, slow = _pumps_with_ship_dates()
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 6))) == []
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))) == [early]
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 4, 30))) == [early, late]
    assert list(pumps_due_for_kit(ship_by_on_or_before=date(2025, 12, 31))) == [early, late, slow]


def test_due_scan_takes_one_query_whatever_the_number_of_pumps():
    _pumps_with_ship_dates()
    with CaptureQueriesContext(connection) as few:
        rows = [(p.pk, p.patient.clinic.name) for p in pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))]
    clinic, _ = clinic_with_staff()
    for _ in range(5):
        make_pump(clinic, fill_at=FILL)
    with CaptureQueriesContext(connection) as many:
        more = [(p.pk, p.patient.clinic.name) for p in pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7))]
    assert len(rows) == 1 and len(more) == 6
    assert len(few) == len(many) == 3  # pumps through the index, then their patients and clinics by id


def test_due_scan_uses_the_partial_ship_by_index():
    _pumps_with_ship_dates()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the table is tiny; ask which index fits
        sql, params = pumps_due_for_kit(ship_by_on_or_before=date(2025, 3, 7)).query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "pump_active_ship_by_idx" in plan


def test_refresh_due_recomputes_only_due_pumps_and_reports_the_changed_ones():
    early, late, slow = _pumps_with_ship_dates()
    # After the cut-off of early's ship-by day its kit can no longer arrive in time.
    changed = pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8),
                                                       now=ny(2025, 3, 7, 16, 0))
    assert changed == [early.pk]
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.has_critical_warning and "kit_cannot_arrive" in [w["code"] for w in early.warnings]
    assert late.schedule_computed_at == FILL + days(30)  # not touched
    assert pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8),
                                                    now=ny(2025, 3, 7, 16, 0)) == []


def test_refresh_due_takes_a_constant_number_of_queries():
    clinic, _ = clinic_with_staff()
    make_pump(clinic, fill_at=FILL)
    with CaptureQueriesContext(connection) as one:
        pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8), now=ny(2025, 3, 7, 16, 0))
    for _ in range(4):
        make_pump(clinic, fill_at=FILL)
    with CaptureQueriesContext(connection) as five:
        pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8), now=ny(2025, 3, 7, 17, 0))
    assert len(one) == len(five)


def test_seed_numbers_survive_the_database_round_trip():
    pump = make_pump(fill_at=FILL, appointment_at=ny(2025, 3, 12, 9, 0))
    fresh = pump_schedule_compute(pump=Pump.objects.select_related("patient__clinic").get(pk=pump.pk),
                                                now=FILL)
    assert fresh.alarm_date == pump.alarm_date and fresh.ship_by == pump.ship_by
    assert fresh.ship_by_deadline == pump.ship_by_deadline
    assert timedelta(0) == fresh.alarm_at - pump.alarm_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_one_pump_never_store_a_schedule_that_misses_one():
    import threading

    pump = make_pump(fill_at=FILL)
    barrier = threading.Barrier(2)
    errors = []

    def change(kind):
        try:
            barrier.wait()
            if kind == "program":
                pump_services.pump_program_set(pump=pump, daily_dose_mcg=Decimal("1000"),
                                               concentration_mcg_per_ml=Decimal("2000"), effective_at=FILL + days(10),
                                               now=FILL + days(11))
            else:
                pump_services.pump_appointment_set(pump=pump, scheduled_at=ny(2025, 3, 1, 9, 0), now=FILL + days(11))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=change, args=(kind,)) for kind in ("program", "appointment")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = Pump.objects.select_related("patient__clinic").get(pk=pump.pk)
    fresh = pump_schedule_compute(pump=stored, now=FILL + days(11))
    # Both changes are in the stored schedule: the faster flow and the appointment.
    assert stored.alarm_date == fresh.alarm_date == date(2025, 2, 16)  # day 10: 17.5 mL, then 15.5 mL at 0.5 mL/day
    assert stored.next_appointment_at == ny(2025, 3, 1, 9, 0)
    assert "appointment_after_alarm" in [w["code"] for w in stored.warnings]
