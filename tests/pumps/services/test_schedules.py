"""The stored schedule (pumps.services.schedules): stored on every change through pump_change, announced
after commit only, refreshed for the due pumps in constant queries, and never missing a concurrent change."""

import threading
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pumps.models import Pump
from pumps.selectors import pumps_at_risk, pumps_due_for_kit
from pumps.services import pumps as pump_services
from pumps.services.schedules import pump_change, pump_schedule_compute, pump_schedules_refresh_due
from pumps.signals import pump_schedule_changed
from tests.pumps.fixtures import clinic_with_staff, days, make_pump, ny, pumps_with_ship_dates

pytestmark = pytest.mark.django_db

FILL = ny(2025, 1, 6, 10, 0)


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


def test_signal_is_sent_after_commit_with_the_pump_ids(django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, pump_ids, **kwargs):
        received.append(pump_ids)

    pump = make_pump(fill_at=FILL)
    pump_schedule_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            pump_services.pump_program_set(
                pump=pump,
                daily_dose_mcg=Decimal("600"),
                concentration_mcg_per_ml=Decimal("2000"),
                effective_at=FILL + days(3),
                now=FILL + days(3),
            )
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
            pump_services.pump_program_set(
                pump=pump, daily_dose_mcg=Decimal("0"), concentration_mcg_per_ml=Decimal("2000"), now=FILL
            )
    assert callbacks == []


def test_refresh_due_recomputes_only_due_pumps_and_reports_the_changed_ones():
    early, late, slow = pumps_with_ship_dates()
    # After the cut-off of early's ship-by day its kit can no longer arrive in time.
    changed = pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8), now=ny(2025, 3, 7, 16, 0))
    assert changed == [early.pk]
    early.refresh_from_db()
    late.refresh_from_db()
    assert early.has_critical_warning and "kit_cannot_arrive" in [w["code"] for w in early.warnings]
    assert late.schedule_computed_at == FILL + days(30)  # not touched
    assert pump_schedules_refresh_due(ship_by_on_or_before=date(2025, 3, 8), now=ny(2025, 3, 7, 16, 0)) == []


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
    fresh = pump_schedule_compute(pump=Pump.objects.select_related("patient__clinic").get(pk=pump.pk), now=FILL)
    assert fresh.alarm_date == pump.alarm_date and fresh.ship_by == pump.ship_by
    assert fresh.ship_by_deadline == pump.ship_by_deadline
    assert timedelta(0) == fresh.alarm_at - pump.alarm_at


@pytest.mark.django_db(transaction=True)
def test_concurrent_changes_to_one_pump_never_store_a_schedule_that_misses_one():
    pump = make_pump(fill_at=FILL)
    barrier = threading.Barrier(2)
    errors = []

    def change(kind):
        try:
            barrier.wait()
            if kind == "program":
                pump_services.pump_program_set(
                    pump=pump,
                    daily_dose_mcg=Decimal("1000"),
                    concentration_mcg_per_ml=Decimal("2000"),
                    effective_at=FILL + days(10),
                    now=FILL + days(11),
                )
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


def _announced(django_capture_on_commit_callbacks, change):
    """Run ``change``; return the pump ids ``pump_schedule_changed`` announced after its commit."""
    received = []

    def receiver(sender, pump_ids, **kwargs):
        received.append(pump_ids)

    pump_schedule_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            change()
    finally:
        pump_schedule_changed.disconnect(receiver)
    return received


def test_pump_change_locks_recomputes_stores_and_announces(django_capture_on_commit_callbacks):
    pump = make_pump(fill_at=FILL)

    def change():
        with pump_change(pump, now=FILL + days(1)) as locked:
            Pump.objects.filter(pk=locked.pump.pk).update(alarm_volume_ml=Decimal("4"))

    assert _announced(django_capture_on_commit_callbacks, change) == [[pump.pk]]
    pump.refresh_from_db()
    assert (pump.alarm_date, pump.schedule_computed_at) == (date(2025, 3, 11), FILL + days(1))


def test_pump_change_that_changed_nothing_neither_recomputes_nor_announces(django_capture_on_commit_callbacks):
    pump = make_pump(fill_at=FILL)

    def change():
        with pump_change(pump, now=FILL + days(1)) as locked:
            locked.nothing_changed()

    assert _announced(django_capture_on_commit_callbacks, change) == []
    pump.refresh_from_db()
    assert pump.schedule_computed_at == FILL


def test_pump_change_that_fails_rolls_back_and_announces_nothing(django_capture_on_commit_callbacks):
    pump = make_pump(fill_at=FILL)

    def change():
        with pytest.raises(ValidationError), pump_change(pump, now=FILL + days(1)) as locked:
            Pump.objects.filter(pk=locked.pump.pk).update(notes="half done")
            raise ValidationError({"notes": "No."})

    assert _announced(django_capture_on_commit_callbacks, change) == []
    pump.refresh_from_db()
    assert (pump.notes, pump.schedule_computed_at) == ("", FILL)
