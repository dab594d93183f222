"""Every write to pumps, programs, refills and appointments, and the stored refill schedule.

Each change to a program, a refill, an appointment or the pump itself recomputes the pump's stored
schedule in the same transaction (under a row lock on the pump, so two changes never write a
schedule that misses the other), then sends ``pump_schedule_changed`` after commit.

Contract for the shop's kit dispatch (shop -> rx; rx never imports shop):
- ``pumps.signals.pump_schedule_changed``: a Signal sent after commit with
  ``pump_ids`` (list of int) whenever a pump's data or stored schedule
  changed. Connect a receiver that enqueues the kit scan for them.
- ``pumps.selectors.pumps_due_for_kit(ship_by_on_or_before=date)``: the active pumps whose kit
  must ship by that date, read through a partial index; ``pump.current_refill_id`` identifies the
  refill cycle (one kit per pump and cycle makes a scan idempotent).
- ``pump_schedule_compute(pump=...)``: the live ``pumps.schedule.schedule.Schedule`` without writing.
- ``shipping_policy()``: the carrier calendar from settings; ``shipping_policy().expected_delivery(
  shipped_at)`` gives the delivery date of a kit handed over at a given moment,
  ``.ship_date(moment)`` the day it actually leaves (after the cut-off: next business day),
  ``.plan(need_by=date, now=datetime)`` a ``ShipPlan`` for any other need date.
- Stored on each ``Pump`` (read these in the scan, no recompute needed): ``ship_by`` (date, pharmacy
  calendar), ``ship_by_deadline`` (aware datetime: the carrier cut-off on that day),
  ``expected_delivery``, ``required_delivery``, ``need_by``, ``kit_feasible``, ``refill_due``,
  ``alarm_at``/``alarm_date``, ``empty_date``, ``stability_limit_date``, ``next_appointment_at``,
  ``has_critical_warning`` and ``warnings`` (list of {code, severity, message}).
- ``pumps.selectors.pumps_at_risk()``: active pumps with a critical warning (to alert/escalate).
- ``pumps.tasks.pump_schedules_refresh_task`` (hourly beat) refreshes the due pumps, so time-driven
  warnings (a ship-by day whose cut-off passed: ``kit_cannot_arrive``) are stored within the hour.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from core.errors import Conflict
from core.shipping import shipping_policy
from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.models.pumps import MAX_CONCENTRATION, MAX_DAILY_DOSE, PUMP_MODEL_SPECS
from pumps.schedule.projection import Program, PumpSpec, Refill
from pumps.schedule.schedule import Schedule, compute_schedule
from pumps.signals import pump_schedule_changed
from rx.models import Patient

__all__ = [
    "pump_schedule_compute",
    "clinic_date",
    "pump_schedule_recompute",
    "pump_schedules_refresh_due",
    "pump_create",
    "pump_update",
    "pump_deactivate",
    "pump_program_set",
    "pump_refill_record",
    "pump_appointment_set",
    "pump_appointment_status_set",
    "SCHEDULE_FIELDS",
]

# A refill or program moment may be a little ahead of the server's clock (clinic devices).
CLOCK_SKEW = timedelta(minutes=5)
# Plausible pump dates: no implant before this day, a battery replacement at most this long after
# the implant, a program at most this far ahead of now.
EARLIEST_IMPLANT = date(1980, 1, 1)
MAX_BATTERY_LIFE_YEARS = 15
MAX_PROGRAM_AHEAD = timedelta(days=366)
# A refill marks the scheduled appointment done if the appointment was at most this long after it.
APPOINTMENT_COVERED_BY_REFILL = timedelta(days=1)

SCHEDULE_FIELDS = [
    "current_refill", "flow_ml_per_day", "alarm_at", "alarm_date", "empty_at", "empty_date",
    "stability_limit_date", "refill_due", "next_appointment_at", "need_by", "required_delivery", "ship_by",
    "ship_by_deadline", "expected_delivery", "kit_feasible", "has_critical_warning", "warnings",
    "schedule_computed_at",
]
PUMP_EDITABLE_FIELDS = [
    "patient", "manufacturer", "model", "serial_number", "reservoir_volume_ml", "alarm_volume_ml",
    "implanted_on", "battery_replacement_on", "active", "notes",
]


def _now() -> datetime:
    return timezone.now()


# --- computing ----------------------------------------------------------------------------

def _history(pump: Pump):
    """Return (last refill, programs, scheduled appointment), using prefetched rows when present."""
    cache = getattr(pump, "_prefetched_objects_cache", {})
    refills = list(cache["refills"]) if "refills" in cache else list(pump.refills.all())
    programs = list(cache["programs"]) if "programs" in cache else list(pump.programs.all())
    appointments = (list(cache["appointments"]) if "appointments" in cache
                    else list(pump.appointments.filter(status=RefillAppointment.Status.SCHEDULED)))
    last = max(refills, key=lambda r: (r.filled_at, r.pk), default=None)
    scheduled = [a for a in appointments if a.status == RefillAppointment.Status.SCHEDULED]
    appointment = min(scheduled, key=lambda a: a.scheduled_at, default=None)
    return last, programs, appointment


def pump_schedule_compute(*, pump: Pump, now: datetime | None = None) -> Schedule:
    """Compute the pump's schedule from its history as seen at ``now``; write nothing."""
    now = now or _now()
    refill, programs, appointment = _history(pump)
    clinic = pump.patient.clinic
    return compute_schedule(
        pump=PumpSpec(
            reservoir_ml=pump.reservoir_volume_ml,
            alarm_volume_ml=pump.alarm_volume_ml,
            battery_replacement_on=pump.battery_replacement_on,
        ),
        refill=(Refill(refill.filled_at, refill.volume_filled_ml, refill.concentration_mcg_per_ml)
                if refill else None),
        programs=[Program(p.effective_at, p.daily_dose_mcg, p.concentration_mcg_per_ml) for p in programs],
        appointment_at=appointment.scheduled_at if appointment else None,
        buffer_days=clinic.refill_buffer_days,
        clinic_time_zone=clinic.time_zone,
        shipping=shipping_policy(),
        now=now,
    )


def _store(pump: Pump, schedule: Schedule, now: datetime) -> bool:
    """Copy ``schedule`` onto the pump's stored fields (no save); return whether anything changed."""
    refill, _, _ = _history(pump)
    values = {
        "current_refill_id": refill.pk if refill else None,
        "flow_ml_per_day": (schedule.flow_ml_per_day.quantize(Decimal("1E-10"), rounding="ROUND_CEILING")
                            if schedule.flow_ml_per_day is not None else None),
        "alarm_at": schedule.alarm_at,
        "alarm_date": schedule.alarm_date,
        "empty_at": schedule.empty_at,
        "empty_date": schedule.empty_date,
        "stability_limit_date": schedule.stability_limit_date,
        "refill_due": schedule.refill_due,
        "next_appointment_at": schedule.appointment_at,
        "need_by": schedule.need_by,
        "required_delivery": schedule.required_delivery,
        "ship_by": schedule.ship_by,
        "ship_by_deadline": schedule.ship_by_deadline,
        "expected_delivery": schedule.expected_delivery,
        "kit_feasible": schedule.kit_feasible,
        "has_critical_warning": schedule.has_critical_warning,
        "warnings": [{"code": w.code, "severity": w.severity, "message": w.message} for w in schedule.warnings],
    }
    changed = any(getattr(pump, name) != value for name, value in values.items())
    for name, value in values.items():
        setattr(pump, name, value)
    pump.schedule_computed_at = now
    return changed


def _notify(pump_ids: Iterable[int]) -> None:
    ids = sorted(set(pump_ids))
    if ids:
        transaction.on_commit(lambda: pump_schedule_changed.send(sender=Pump, pump_ids=ids))


def _lock(pump: Pump) -> Pump:
    """Lock the pump row for the rest of the transaction and return it fresh, with its clinic."""
    return Pump.objects.select_for_update(of=("self",)).select_related("patient__clinic").get(pk=pump.pk)


def pump_schedule_recompute(*, pump: Pump, now: datetime | None = None, notify: bool = True) -> Schedule:
    """Recompute and store the pump's schedule; send ``pump_schedule_changed`` if it changed."""
    now = now or _now()
    with transaction.atomic():
        locked = _lock(pump)
        schedule = pump_schedule_compute(pump=locked, now=now)
        changed = _store(locked, schedule, now)
        locked.save(update_fields=SCHEDULE_FIELDS)
        if changed and notify:
            _notify([locked.pk])
    for name in SCHEDULE_FIELDS:
        attname = Pump._meta.get_field(name).attname
        setattr(pump, attname, getattr(locked, attname))
    return schedule


def pump_schedules_refresh_due(*, ship_by_on_or_before: date, now: datetime | None = None) -> list[int]:
    """Recompute the stored schedules of the pumps due by a date; return the ids whose schedule changed.

    Time alone turns a due pump's schedule critical (its ship-by day passes, its alarm date comes);
    a pump that is not yet due cannot change that way, so the cost is the number of due pumps.
    Rows are locked in primary-key order and read in a constant number of queries.
    """
    from pumps.selectors import pumps_due_for_kit

    now = now or _now()
    changed_ids = []
    with transaction.atomic():
        pumps = list(
            pumps_due_for_kit(ship_by_on_or_before=ship_by_on_or_before)
            .select_for_update(of=("self",)).order_by("pk")
            .prefetch_related("refills", "programs", "appointments")
        )
        for pump in pumps:
            if _store(pump, pump_schedule_compute(pump=pump, now=now), now):
                changed_ids.append(pump.pk)
        _bulk_write_schedules(pumps)
        _notify(changed_ids)
    return changed_ids


def _bulk_write_schedules(pumps: list[Pump]) -> None:
    """Write the stored schedule fields of many pumps in one round trip.

    ``bulk_update`` builds one CASE expression per field and row, which costs seconds for a few
    hundred pumps; an ``executemany`` of a plain UPDATE by primary key is pipelined by psycopg.
    """
    if not pumps:
        return
    fields = [Pump._meta.get_field(name) for name in SCHEDULE_FIELDS]
    table = connection.ops.quote_name(Pump._meta.db_table)
    assignments = ", ".join(f"{connection.ops.quote_name(f.column)} = %s" for f in fields)
    rows = [[f.get_db_prep_save(getattr(pump, f.attname), connection) for f in fields] + [pump.pk] for pump in pumps]
    with connection.cursor() as cursor:
        cursor.executemany(f"UPDATE {table} SET {assignments} WHERE id = %s", rows)


# --- validation helpers -------------------------------------------------------------------

def _decimal(value, field: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None,
             places: int = 2, inclusive_min: bool = False) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        raise ValidationError({field: "Enter a number."}) from None
    if not number.is_finite():
        raise ValidationError({field: "Enter a number."})
    if minimum is not None and (number < minimum if inclusive_min else number <= minimum):
        raise ValidationError({field: f"Must be {'at least' if inclusive_min else 'greater than'} {minimum}."})
    if maximum is not None and number > maximum:
        raise ValidationError({field: f"Must be at most {maximum}."})
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise ValidationError({field: f"Use at most {places} decimal places."})
    return number


def _moment(value, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({field: "Give a date and time with a time zone."})
    return value


def _clinic_zone(clinic):
    try:
        return ZoneInfo(clinic.time_zone) if clinic is not None else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def clinic_date(clinic, moment: datetime) -> date:
    """The calendar day of ``moment`` at the clinic (implant dates are clinic-local days)."""
    return moment.astimezone(_clinic_zone(clinic)).date()


def _before_day(clinic, moment: datetime, day: date) -> bool:
    """Whether ``moment`` falls before ``day`` at the clinic (no overflow for moments in year 1 or 9999)."""
    return moment < datetime.combine(day, time.min, tzinfo=_clinic_zone(clinic))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_pump_dates(*, implanted_on, battery_replacement_on, clinic, now: datetime) -> None:
    """Implant day: a date, not in the future (clinic's today), not before 1980. Battery replacement:
    on or after the implant and at most 15 years after it."""
    if not isinstance(implanted_on, date) or isinstance(implanted_on, datetime):
        raise ValidationError({"implanted_on": "Give a date (YYYY-MM-DD)."})
    if implanted_on > clinic_date(clinic, now):
        raise ValidationError({"implanted_on": "The implant date cannot be in the future."})
    if implanted_on < EARLIEST_IMPLANT:
        raise ValidationError({"implanted_on": f"The implant date cannot be before {EARLIEST_IMPLANT.isoformat()}."})
    if battery_replacement_on is None:
        return
    if not isinstance(battery_replacement_on, date) or isinstance(battery_replacement_on, datetime):
        raise ValidationError({"battery_replacement_on": "Give a date (YYYY-MM-DD)."})
    if battery_replacement_on < implanted_on:
        raise ValidationError({"battery_replacement_on": "The battery replacement date is before the implant date."})
    if battery_replacement_on > _years_after(implanted_on, MAX_BATTERY_LIFE_YEARS):
        raise ValidationError({"battery_replacement_on": (
            f"The battery replacement date must be within {MAX_BATTERY_LIFE_YEARS} years of the implant date.")})


def _check_not_before_implant(pump: Pump, moment: datetime, field: str) -> None:
    if _before_day(pump.patient.clinic, moment, pump.implanted_on):
        raise ValidationError({field: f"Must not be before the pump's implant date ({pump.implanted_on.isoformat()})."})


# --- pumps --------------------------------------------------------------------------------

def _validated_pump(pump: Pump) -> Pump:
    # Pump.clean() mirrors the check constraints field by field; uniqueness is checked here so
    # that the error names serial_number (the database constraint stays the backstop).
    try:
        pump.full_clean(exclude=["current_refill"], validate_constraints=False)
    except ValidationError as exc:
        raise ValidationError(exc.message_dict) from None
    duplicate = Pump.objects.filter(manufacturer=pump.manufacturer, serial_number=pump.serial_number)
    if duplicate.exclude(pk=pump.pk).exists():
        raise ValidationError({"serial_number": "A pump with this serial number is already registered."})
    return pump


def _save_pump(pump: Pump) -> None:
    try:
        with transaction.atomic():
            pump.save()
    except IntegrityError as exc:
        if "pump_serial_unique_per_manufacturer" in str(exc):
            raise ValidationError({"serial_number": "A pump with this serial number is already registered."}) from None
        raise


def pump_create(*, patient: Patient, model: str, serial_number: str, alarm_volume_ml, implanted_on: date,
                manufacturer: str | None = None, reservoir_volume_ml=None, battery_replacement_on: date | None = None,
                notes: str = "", now: datetime | None = None) -> Pump:
    """Register a clinic patient's pump; manufacturer and reservoir default from the model."""
    if patient.clinic_id is None:
        raise ValidationError({"patient": "Pumps belong to clinic patients."})
    _check_pump_dates(implanted_on=implanted_on, battery_replacement_on=battery_replacement_on,
                      clinic=patient.clinic, now=now or _now())
    spec = PUMP_MODEL_SPECS.get(model)
    if spec is None:
        raise ValidationError({"model": f"Choose one of: {', '.join(PUMP_MODEL_SPECS)}."})
    pump = Pump(
        patient=patient, model=model, serial_number=(serial_number or "").strip(),
        manufacturer=manufacturer or spec[0],
        reservoir_volume_ml=(_decimal(reservoir_volume_ml, "reservoir_volume_ml", minimum=Decimal(0))
                             if reservoir_volume_ml is not None else spec[1]),
        alarm_volume_ml=_decimal(alarm_volume_ml, "alarm_volume_ml", minimum=Decimal(0)),
        implanted_on=implanted_on, battery_replacement_on=battery_replacement_on, notes=notes or "",
    )
    with transaction.atomic():
        _save_pump(_validated_pump(pump))
        pump_schedule_recompute(pump=pump, now=now, notify=False)
        _notify([pump.pk])
    return pump


def pump_update(*, pump: Pump, now: datetime | None = None, **changes) -> Pump:
    """Change the pump's own fields (not its schedule) and recompute the schedule."""
    unknown = set(changes) - set(PUMP_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    with transaction.atomic():
        locked = _lock(pump)
        for name, value in changes.items():
            if name in ("alarm_volume_ml", "reservoir_volume_ml"):
                value = _decimal(value, name, minimum=Decimal(0))
            setattr(locked, name, value)
        if "model" in changes:
            spec = PUMP_MODEL_SPECS.get(locked.model)
            if spec is None:
                raise ValidationError({"model": f"Choose one of: {', '.join(PUMP_MODEL_SPECS)}."})
            if "manufacturer" not in changes:
                locked.manufacturer = spec[0]
            if "reservoir_volume_ml" not in changes:
                locked.reservoir_volume_ml = spec[1]
        if "patient" in changes and locked.patient.clinic_id is None:
            raise ValidationError({"patient": "Pumps belong to clinic patients."})
        if "implanted_on" in changes or "battery_replacement_on" in changes:
            _check_pump_dates(implanted_on=locked.implanted_on, battery_replacement_on=locked.battery_replacement_on,
                              clinic=locked.patient.clinic, now=now or _now())
        if "implanted_on" in changes:
            moments = [m for m in (locked.refills.order_by("filled_at").values_list("filled_at", flat=True).first(),
                                   locked.programs.order_by("effective_at").values_list("effective_at", flat=True)
                                   .first()) if m is not None]
            if any(_before_day(locked.patient.clinic, m, locked.implanted_on) for m in moments):
                raise ValidationError({"implanted_on": "The pump has programs or refills before this implant date."})
        refill, _, _ = _history(locked)
        if refill and refill.volume_filled_ml > locked.reservoir_volume_ml:
            raise ValidationError({"reservoir_volume_ml": "The last refill holds more than this reservoir."})
        _save_pump(_validated_pump(locked))
        pump_schedule_recompute(pump=locked, now=now, notify=False)
        _notify([locked.pk])
    locked.refresh_from_db()
    return locked


def pump_deactivate(*, pump: Pump, now: datetime | None = None) -> Pump:
    """Mark the pump as no longer in use (explanted, replaced). Its history is kept."""
    return pump_update(pump=pump, active=False, now=now)


# --- programs, refills, appointments ------------------------------------------------------

def pump_program_set(*, pump: Pump, daily_dose_mcg, concentration_mcg_per_ml, effective_at: datetime | None = None,
                     user=None, now: datetime | None = None) -> PumpProgram:
    """Record a new pump program (dose and concentration) from ``effective_at`` (default: now)."""
    now = now or _now()
    effective_at = _moment(effective_at or now, "effective_at")
    if effective_at > now + MAX_PROGRAM_AHEAD:
        raise ValidationError({"effective_at": "A program cannot take effect more than a year from now."})
    dose = _decimal(daily_dose_mcg, "daily_dose_mcg", minimum=Decimal(0), maximum=MAX_DAILY_DOSE, places=3)
    concentration = _decimal(concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0),
                             maximum=MAX_CONCENTRATION)
    with transaction.atomic():
        locked = _lock(pump)
        _check_not_before_implant(locked, effective_at, "effective_at")
        if locked.programs.filter(effective_at=effective_at).exists():
            raise ValidationError({"effective_at": "A program already takes effect at this moment."})
        program = PumpProgram.objects.create(
            pump=locked, daily_dose_mcg=dose, concentration_mcg_per_ml=concentration, effective_at=effective_at,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        pump_schedule_recompute(pump=locked, now=now, notify=False)
        _notify([locked.pk])
    return program


def pump_refill_record(*, pump: Pump, filled_at: datetime, volume_filled_ml, concentration_mcg_per_ml,
                       residual_withdrawn_ml=Decimal("0"), notes: str = "", user=None,
                       now: datetime | None = None) -> PumpRefill:
    """Record a refill. A scheduled appointment at most a day after the refill is marked done."""
    now = now or _now()
    filled_at = _moment(filled_at, "filled_at")
    if filled_at > now + CLOCK_SKEW:
        raise ValidationError({"filled_at": "A refill cannot be recorded in the future."})
    concentration = _decimal(concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0),
                             maximum=MAX_CONCENTRATION)
    with transaction.atomic():
        locked = _lock(pump)
        _check_not_before_implant(locked, filled_at, "filled_at")
        reservoir = locked.reservoir_volume_ml
        volume = _decimal(volume_filled_ml, "volume_filled_ml", minimum=Decimal(0), maximum=reservoir)
        residual = _decimal(residual_withdrawn_ml if residual_withdrawn_ml is not None else 0,
                            "residual_withdrawn_ml", minimum=Decimal(0), maximum=reservoir, inclusive_min=True)
        if locked.refills.filter(filled_at=filled_at).exists():
            raise ValidationError({"filled_at": "A refill is already recorded at this moment."})
        refill = PumpRefill.objects.create(
            pump=locked, filled_at=filled_at, volume_filled_ml=volume, concentration_mcg_per_ml=concentration,
            residual_withdrawn_ml=residual, notes=notes or "",
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        locked.appointments.filter(
            status=RefillAppointment.Status.SCHEDULED, scheduled_at__lte=filled_at + APPOINTMENT_COVERED_BY_REFILL
        ).update(status=RefillAppointment.Status.DONE, updated_at=now)
        pump_schedule_recompute(pump=locked, now=now, notify=False)
        _notify([locked.pk])
    return refill


def pump_appointment_set(*, pump: Pump, scheduled_at: datetime, user=None,
                         now: datetime | None = None) -> RefillAppointment:
    """Set the pump's next refill appointment (in the future); a scheduled one it replaces is cancelled."""
    now = now or _now()
    scheduled_at = _moment(scheduled_at, "scheduled_at")
    if scheduled_at <= now:
        raise ValidationError({"scheduled_at": "The appointment must be in the future."})
    with transaction.atomic():
        locked = _lock(pump)
        if not locked.active:
            raise Conflict("This pump is no longer active.", code="pump_inactive")
        locked.appointments.filter(status=RefillAppointment.Status.SCHEDULED).update(
            status=RefillAppointment.Status.CANCELLED, updated_at=now
        )
        appointment = RefillAppointment.objects.create(
            pump=locked, scheduled_at=scheduled_at,
            created_by=user if getattr(user, "is_authenticated", False) else None,
        )
        pump_schedule_recompute(pump=locked, now=now, notify=False)
        _notify([locked.pk])
    return appointment


# Allowed appointment transitions, declared once.
APPOINTMENT_TRANSITIONS = {
    RefillAppointment.Status.SCHEDULED: {RefillAppointment.Status.DONE, RefillAppointment.Status.CANCELLED},
    RefillAppointment.Status.DONE: set(),
    RefillAppointment.Status.CANCELLED: set(),
}


def pump_appointment_status_set(*, appointment: RefillAppointment, status: str,
                                now: datetime | None = None) -> RefillAppointment:
    """Mark a scheduled appointment done or cancelled."""
    now = now or _now()
    if status not in RefillAppointment.Status.values:
        raise ValidationError({"status": f"Choose one of: {', '.join(RefillAppointment.Status.values)}."})
    with transaction.atomic():
        locked = _lock(appointment.pump)
        current = RefillAppointment.objects.get(pk=appointment.pk)
        if status == current.status:
            return current
        if status not in APPOINTMENT_TRANSITIONS[current.status]:
            raise Conflict(f"An appointment that is {current.status} cannot become {status}.",
                           code="invalid_transition")
        current.status = status
        current.save(update_fields=["status", "updated_at"])
        pump_schedule_recompute(pump=locked, now=now, notify=False)
        _notify([locked.pk])
    return current
