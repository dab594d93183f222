"""The stored refill schedule of each pump: computed from its history, stored, refreshed and announced.

Every change to a program, a refill, an appointment or the pump itself goes through ``pump_change``:
it locks the pump row, lets the caller change it, recomputes and stores the schedule in the same
transaction (so two changes never write a schedule that misses the other), then sends
``pump_schedule_changed`` after commit.

Contract for the kit scan and dispatch (``pumps.services.kits``):
- ``pumps.signals.pump_schedule_changed``: a Signal sent after commit with ``pump_ids`` (list of
  int) whenever a pump's data or stored schedule changed. Connect a receiver that enqueues the kit
  scan for them.
- ``pumps.selectors.pumps_due_for_kit(ship_by_on_or_before=date)``: the active pumps whose kit
  must ship by that date, read through a partial index; ``pump.current_refill_id`` identifies the
  refill cycle (one kit per pump and cycle makes a scan idempotent).
- ``pump_schedule_compute(pump=...)``: the live ``pumps.schedule.schedule.Schedule`` without writing.
- ``core.shipping.shipping_policy()``: the carrier calendar from settings; ``.expected_delivery(
  shipped_at)`` gives the delivery date of a kit handed over at a given moment, ``.ship_date(moment)``
  the day it actually leaves (after the cut-off: next business day), ``.plan(need_by=date, now=datetime)``
  a ``ShipPlan`` for any other need date.
- Stored on each ``Pump`` (``pumps.models.SCHEDULE_FIELDS``; read these in the scan, no recompute
  needed): ``ship_by`` (date, pharmacy calendar), ``ship_by_deadline`` (aware datetime: the carrier
  cut-off on that day), ``expected_delivery``, ``required_delivery``, ``need_by``, ``kit_feasible``,
  ``refill_due``, ``alarm_at``/``alarm_date``, ``empty_date``, ``stability_limit_date``,
  ``next_appointment_at``, ``has_critical_warning`` and ``warnings`` (list of {code, severity, message}).
- ``pumps.selectors.pumps_at_risk()``: active pumps with a critical warning (to alert/escalate).
- ``pumps.tasks.pump_schedules_refresh_task`` (hourly beat) refreshes the due pumps, so time-driven
  warnings (a ship-by day whose cut-off passed: ``kit_cannot_arrive``) are stored within the hour.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, cast

from django.db import connection, transaction
from django.utils import timezone

from core.shipping import shipping_policy
from pumps.models import SCHEDULE_FIELDS, Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.schedule.projection import Program, PumpSpec, Refill
from pumps.schedule.schedule import Schedule, compute_schedule
from pumps.selectors import pumps_due_for_kit
from pumps.signals import pump_schedule_changed

if TYPE_CHECKING:
    from django.db.models import Field

__all__ = [
    "pump_history",
    "pump_schedule_compute",
    "pump_schedule_recompute",
    "pump_schedules_refresh_due",
    "PumpChange",
    "pump_change",
    "schedule_change_announce",
]


def pump_history(pump: Pump) -> tuple[PumpRefill | None, list[PumpProgram], RefillAppointment | None]:
    """Return (last refill, programs, scheduled appointment), using prefetched rows when present."""
    cache = getattr(pump, "_prefetched_objects_cache", {})
    refills = list(cache["refills"]) if "refills" in cache else list(pump.refills.all())
    programs = list(cache["programs"]) if "programs" in cache else list(pump.programs.all())
    appointments = (
        list(cache["appointments"])
        if "appointments" in cache
        else list(pump.appointments.filter(status=RefillAppointment.Status.SCHEDULED))
    )
    last = max(refills, key=lambda r: (r.filled_at, r.pk), default=None)
    scheduled = [a for a in appointments if a.status == RefillAppointment.Status.SCHEDULED]
    appointment = min(scheduled, key=lambda a: a.scheduled_at, default=None)
    return last, programs, appointment


def pump_schedule_compute(*, pump: Pump, now: datetime | None = None) -> Schedule:
    """Compute the pump's schedule from its history as seen at ``now``; write nothing."""
    now = now or timezone.now()
    refill, programs, appointment = pump_history(pump)
    clinic = pump.patient.clinic
    assert clinic is not None  # pumps belong to clinic patients (Pump.clean, pump_create)
    return compute_schedule(
        pump=PumpSpec(
            reservoir_ml=pump.reservoir_volume_ml,
            alarm_volume_ml=pump.alarm_volume_ml,
            battery_replacement_on=pump.battery_replacement_on,
        ),
        refill=(Refill(refill.filled_at, refill.volume_filled_ml, refill.concentration_mcg_per_ml) if refill else None),
        programs=[Program(p.effective_at, p.daily_dose_mcg, p.concentration_mcg_per_ml) for p in programs],
        appointment_at=appointment.scheduled_at if appointment else None,
        buffer_days=clinic.refill_buffer_days,
        clinic_time_zone=clinic.time_zone,
        shipping=shipping_policy(),
        now=now,
    )


def _store(pump: Pump, schedule: Schedule, now: datetime) -> bool:
    """Copy ``schedule`` onto the pump's stored fields (no save); return whether anything changed."""
    refill, _, _ = pump_history(pump)
    return pump.store_schedule(schedule, current_refill_id=refill.pk if refill else None, computed_at=now)


def schedule_change_announce(pump_ids: Iterable[int]) -> None:
    """Send ``pump_schedule_changed`` for these pumps once the current transaction commits."""
    ids = sorted(set(pump_ids))
    if ids:
        transaction.on_commit(lambda: pump_schedule_changed.send(sender=Pump, pump_ids=ids))


def _lock(pump: Pump) -> Pump:
    """Lock the pump row for the rest of the transaction and return it fresh, with its clinic."""
    return Pump.objects.select_for_update(of=("self",)).select_related("patient__clinic").get(pk=pump.pk)


def pump_schedule_recompute(*, pump: Pump, now: datetime | None = None, notify: bool = True) -> Schedule:
    """Recompute and store the pump's schedule; send ``pump_schedule_changed`` if it changed."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = _lock(pump)
        schedule = pump_schedule_compute(pump=locked, now=now)
        changed = _store(locked, schedule, now)
        locked.save(update_fields=SCHEDULE_FIELDS)
        if changed and notify:
            schedule_change_announce([locked.pk])
    for name in SCHEDULE_FIELDS:
        attname = cast("Field[Any, Any]", Pump._meta.get_field(name)).attname  # a concrete field
        setattr(pump, attname, getattr(locked, attname))
    return schedule


class PumpChange:
    """The pump locked for a change (``pump``); see ``pump_change``."""

    def __init__(self, pump: Pump):
        self.pump = pump
        self.changed = True

    def nothing_changed(self) -> None:
        """Leave without recomputing the schedule or announcing a change (the change was a no-op)."""
        self.changed = False


@contextmanager
def pump_change(pump: Pump, *, now: datetime | None = None) -> Iterator[PumpChange]:
    """Lock the pump for the change made in the ``with`` block, then recompute, store and announce.

    The block runs in one transaction under the pump's row lock (``change.pump`` is the locked,
    fresh row). When it ends, the schedule is recomputed and stored, and ``pump_schedule_changed``
    is sent after the commit; if it raises, everything is rolled back and nothing is sent.
    """
    with transaction.atomic():
        change = PumpChange(_lock(pump))
        yield change
        if change.changed:
            pump_schedule_recompute(pump=change.pump, now=now, notify=False)
            schedule_change_announce([change.pump.pk])


def pump_schedules_refresh_due(*, ship_by_on_or_before: date, now: datetime | None = None) -> list[int]:
    """Recompute the stored schedules of the pumps due by a date; return the ids whose schedule changed.

    Time alone turns a due pump's schedule critical (its ship-by day passes, its alarm date comes);
    a pump that is not yet due cannot change that way, so the cost is the number of due pumps.
    Rows are locked in primary-key order and read in a constant number of queries.
    """
    now = now or timezone.now()
    changed_ids = []
    with transaction.atomic():
        pumps = list(
            pumps_due_for_kit(ship_by_on_or_before=ship_by_on_or_before)
            .select_for_update(of=("self",))
            .order_by("pk")
            .prefetch_related("refills", "programs", "appointments")
        )
        for pump in pumps:
            if _store(pump, pump_schedule_compute(pump=pump, now=now), now):
                changed_ids.append(pump.pk)
        _bulk_write_schedules(pumps)
        schedule_change_announce(changed_ids)
    return changed_ids


def _bulk_write_schedules(pumps: list[Pump]) -> None:
    """Write the stored schedule fields of many pumps in one round trip.

    ``bulk_update`` builds one CASE expression per field and row, which costs seconds for a few
    hundred pumps; an ``executemany`` of a plain UPDATE by primary key is pipelined by psycopg.
    """
    if not pumps:
        return
    # Concrete fields, each with its column.
    fields = [cast("Field[Any, Any]", Pump._meta.get_field(name)) for name in SCHEDULE_FIELDS]
    table = connection.ops.quote_name(Pump._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(cast(str, f.column))} = %s" for f in fields)
    rows = [[f.get_db_prep_save(getattr(pump, f.attname), connection) for f in fields] + [pump.pk] for pump in pumps]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)
