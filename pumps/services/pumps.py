"""Every write to pumps, programs, refills and appointments, with its validation and its audit row.

Each write runs in ``pumps.services.schedules.pump_change``: under the pump's row lock, then the stored
schedule is recomputed and ``pump_schedule_changed`` sent after commit. A write made for a person (a
page, the API or the admin passes its ``request``) is recorded in the PHI audit log as theirs, in the
same transaction; fixtures and system writes pass none. Errors name the field (``ValidationError``)
or say why the pump's state forbids the change (``Conflict``, 409).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import Conflict
from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.models.pumps import MAX_CONCENTRATION, MAX_DAILY_DOSE, PUMP_MODEL_SPECS
from rx.models import Patient
from rx.services import audit

from ..state import APPOINTMENT_TRANSITIONS, AppointmentStatus
from .schedules import pump_change, pump_history, pump_schedule_recompute, schedule_change_announce

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.db import models
    from django.http import HttpRequest

    from rx.models import Clinic

__all__ = [
    "clinic_date",
    "pump_create",
    "pump_update",
    "pump_deactivate",
    "pump_program_set",
    "pump_refill_record",
    "pump_appointment_set",
    "pump_appointment_status_set",
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

PUMP_EDITABLE_FIELDS = [
    "patient", "manufacturer", "model", "serial_number", "reservoir_volume_ml", "alarm_volume_ml",
    "implanted_on", "battery_replacement_on", "active", "notes",
]



def _audit(request: HttpRequest | None, action: str, obj: models.Model, detail: str = "") -> None:
    """Record the change in the PHI audit log when it is made for a person (``request`` given)."""
    if request is not None:
        audit.audit_record(user=request.user, action=action, obj=obj, request=request, detail=detail)


def _user_or_none(user: User | AnonymousUser | None) -> User | None:
    # An authenticated user is an AUTH_USER_MODEL (auth.User) row.
    return cast("User", user) if getattr(user, "is_authenticated", False) else None


# --- validation ---------------------------------------------------------------------------

def _decimal(value: object, field: str, *, minimum: Decimal | None = None, maximum: Decimal | None = None,
             places: int = 2, inclusive_min: bool = False) -> Decimal:
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(cast("Decimal | str", value))  # any input: Decimal's TypeError/ValueError are caught
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


def _moment(value: object, field: str) -> datetime:
    if not isinstance(value, datetime) or timezone.is_naive(value):
        raise ValidationError({field: "Give a date and time with a time zone."})
    return value


def _clinic_zone(clinic: Clinic | None) -> tzinfo:
    try:
        return ZoneInfo(clinic.time_zone) if clinic is not None else timezone.get_current_timezone()
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_current_timezone()


def clinic_date(clinic: Clinic | None, moment: datetime) -> date:
    """The calendar day of ``moment`` at the clinic (implant dates are clinic-local days)."""
    return moment.astimezone(_clinic_zone(clinic)).date()


def _before_day(clinic: Clinic | None, moment: datetime, day: date) -> bool:
    """Whether ``moment`` falls before ``day`` at the clinic (no overflow for moments in year 1 or 9999)."""
    return moment < datetime.combine(day, time.min, tzinfo=_clinic_zone(clinic))


def _years_after(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_pump_dates(*, implanted_on: object, battery_replacement_on: object, clinic: Clinic | None,
                      now: datetime) -> None:
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


def _model_spec(model: str) -> tuple[str, Decimal]:
    # The specs are keyed by PumpModel, a str enum: a plain str finds its member.
    spec = cast("dict[str, tuple[str, Decimal]]", PUMP_MODEL_SPECS).get(model)
    if spec is None:
        raise ValidationError({"model": f"Choose one of: {', '.join(PUMP_MODEL_SPECS)}."})
    return spec


def pump_create(*, patient: Patient, model: str, serial_number: str, alarm_volume_ml: object, implanted_on: date,
                manufacturer: str | None = None, reservoir_volume_ml: object = None,
                battery_replacement_on: date | None = None, notes: str = "", request: HttpRequest | None = None,
                audit_detail: str = "", now: datetime | None = None) -> Pump:
    """Register a clinic patient's pump; manufacturer and reservoir default from the model."""
    if patient.clinic_id is None:
        raise ValidationError({"patient": "Pumps belong to clinic patients."})
    _check_pump_dates(implanted_on=implanted_on, battery_replacement_on=battery_replacement_on,
                      clinic=patient.clinic, now=now or timezone.now())
    spec = _model_spec(model)
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
        schedule_change_announce([pump.pk])
        _audit(request, audit.Action.CREATE, pump, audit_detail)
    return pump


def _apply_changes(pump: Pump, changes: dict[str, Any], now: datetime | None) -> None:
    """Set ``changes`` on the locked pump and check what they touch (the model's rules come after)."""
    for name, value in changes.items():
        if name in ("alarm_volume_ml", "reservoir_volume_ml"):
            value = _decimal(value, name, minimum=Decimal(0))
        setattr(pump, name, value)
    if "model" in changes:
        manufacturer, reservoir = _model_spec(pump.model)
        if "manufacturer" not in changes:
            pump.manufacturer = manufacturer
        if "reservoir_volume_ml" not in changes:
            pump.reservoir_volume_ml = reservoir
    if "patient" in changes and pump.patient.clinic_id is None:
        raise ValidationError({"patient": "Pumps belong to clinic patients."})
    if "implanted_on" in changes or "battery_replacement_on" in changes:
        _check_pump_dates(implanted_on=pump.implanted_on, battery_replacement_on=pump.battery_replacement_on,
                          clinic=pump.patient.clinic, now=now or timezone.now())
    if "implanted_on" in changes:
        moments = [m for m in (pump.refills.order_by("filled_at").values_list("filled_at", flat=True).first(),
                               pump.programs.order_by("effective_at").values_list("effective_at", flat=True)
                               .first()) if m is not None]
        if any(_before_day(pump.patient.clinic, m, pump.implanted_on) for m in moments):
            raise ValidationError({"implanted_on": "The pump has programs or refills before this implant date."})
    refill, _, _ = pump_history(pump)
    if refill and refill.volume_filled_ml > pump.reservoir_volume_ml:
        raise ValidationError({"reservoir_volume_ml": "The last refill holds more than this reservoir."})


def pump_update(*, pump: Pump, request: HttpRequest | None = None, audit_detail: str | None = None,
                now: datetime | None = None, **changes: Any) -> Pump:
    """Change the pump's own fields (not its schedule) and recompute the schedule.

    The audit row's detail names the changed fields unless ``audit_detail`` says otherwise.
    """
    unknown = set(changes) - set(PUMP_EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({sorted(unknown)[0]: "This field cannot be changed here."})
    with pump_change(pump, now=now) as change:
        locked = change.pump
        _apply_changes(locked, changes, now)
        _save_pump(_validated_pump(locked))
        _audit(request, audit.Action.CHANGE, locked,
               ",".join(sorted(changes)) if audit_detail is None else audit_detail)
    locked.refresh_from_db()
    return locked


def pump_deactivate(*, pump: Pump, request: HttpRequest | None = None, now: datetime | None = None) -> Pump:
    """Mark the pump as no longer in use (explanted, replaced). Its history is kept."""
    return pump_update(pump=pump, active=False, request=request, audit_detail="deactivated", now=now)


# --- programs, refills, appointments ------------------------------------------------------

def pump_program_set(*, pump: Pump, daily_dose_mcg: object, concentration_mcg_per_ml: object,
                     effective_at: datetime | None = None, user: User | AnonymousUser | None = None,
                     request: HttpRequest | None = None, now: datetime | None = None) -> PumpProgram:
    """Record a new pump program (dose and concentration) from ``effective_at`` (default: now)."""
    now = now or timezone.now()
    effective_at = _moment(effective_at or now, "effective_at")
    if effective_at > now + MAX_PROGRAM_AHEAD:
        raise ValidationError({"effective_at": "A program cannot take effect more than a year from now."})
    dose = _decimal(daily_dose_mcg, "daily_dose_mcg", minimum=Decimal(0), maximum=MAX_DAILY_DOSE, places=3)
    concentration = _decimal(concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0),
                             maximum=MAX_CONCENTRATION)
    with pump_change(pump, now=now) as change:
        locked = change.pump
        _check_not_before_implant(locked, effective_at, "effective_at")
        if locked.programs.filter(effective_at=effective_at).exists():
            raise ValidationError({"effective_at": "A program already takes effect at this moment."})
        program = PumpProgram.objects.create(
            pump=locked, daily_dose_mcg=dose, concentration_mcg_per_ml=concentration, effective_at=effective_at,
            created_by=_user_or_none(user),
        )
        _audit(request, audit.Action.CREATE, program)
    return program


def pump_refill_record(*, pump: Pump, filled_at: datetime, volume_filled_ml: object, concentration_mcg_per_ml: object,
                       residual_withdrawn_ml: object = Decimal("0"), notes: str = "",
                       user: User | AnonymousUser | None = None, request: HttpRequest | None = None,
                       now: datetime | None = None) -> PumpRefill:
    """Record a refill. A scheduled appointment at most a day after the refill is marked done."""
    now = now or timezone.now()
    filled_at = _moment(filled_at, "filled_at")
    if filled_at > now + CLOCK_SKEW:
        raise ValidationError({"filled_at": "A refill cannot be recorded in the future."})
    concentration = _decimal(concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0),
                             maximum=MAX_CONCENTRATION)
    with pump_change(pump, now=now) as change:
        locked = change.pump
        _check_not_before_implant(locked, filled_at, "filled_at")
        reservoir = locked.reservoir_volume_ml
        volume = _decimal(volume_filled_ml, "volume_filled_ml", minimum=Decimal(0), maximum=reservoir)
        residual = _decimal(residual_withdrawn_ml if residual_withdrawn_ml is not None else 0,
                            "residual_withdrawn_ml", minimum=Decimal(0), maximum=reservoir, inclusive_min=True)
        if locked.refills.filter(filled_at=filled_at).exists():
            raise ValidationError({"filled_at": "A refill is already recorded at this moment."})
        refill = PumpRefill.objects.create(
            pump=locked, filled_at=filled_at, volume_filled_ml=volume, concentration_mcg_per_ml=concentration,
            residual_withdrawn_ml=residual, notes=notes or "", created_by=_user_or_none(user),
        )
        locked.appointments.filter(
            status=RefillAppointment.Status.SCHEDULED, scheduled_at__lte=filled_at + APPOINTMENT_COVERED_BY_REFILL
        ).update(status=RefillAppointment.Status.DONE, updated_at=now)
        _audit(request, audit.Action.CREATE, refill)
    return refill


def pump_appointment_set(*, pump: Pump, scheduled_at: datetime, user: User | AnonymousUser | None = None,
                         request: HttpRequest | None = None, now: datetime | None = None) -> RefillAppointment:
    """Set the pump's next refill appointment (in the future); a scheduled one it replaces is cancelled."""
    now = now or timezone.now()
    scheduled_at = _moment(scheduled_at, "scheduled_at")
    if scheduled_at <= now:
        raise ValidationError({"scheduled_at": "The appointment must be in the future."})
    with pump_change(pump, now=now) as change:
        locked = change.pump
        if not locked.active:
            raise Conflict("This pump is no longer active.", code="pump_inactive")
        locked.appointments.filter(status=RefillAppointment.Status.SCHEDULED).update(
            status=RefillAppointment.Status.CANCELLED, updated_at=now
        )
        appointment = RefillAppointment.objects.create(pump=locked, scheduled_at=scheduled_at,
                                                       created_by=_user_or_none(user))
        _audit(request, audit.Action.CREATE, appointment)
    return appointment


def pump_appointment_status_set(*, appointment: RefillAppointment, status: str, request: HttpRequest | None = None,
                                now: datetime | None = None) -> RefillAppointment:
    """Mark a scheduled appointment done or cancelled (setting the status it has changes nothing)."""
    now = now or timezone.now()
    if status not in RefillAppointment.Status.values:
        raise ValidationError({"status": f"Choose one of: {', '.join(RefillAppointment.Status.values)}."})
    with pump_change(appointment.pump, now=now) as change:
        current = RefillAppointment.objects.get(pk=appointment.pk)
        if status == current.status:
            change.nothing_changed()
        elif status not in APPOINTMENT_TRANSITIONS[cast(AppointmentStatus, current.status)]:  # a stored status
            raise Conflict(f"An appointment that is {current.status} cannot become {status}.",
                           code="invalid_transition")
        else:
            current.status = status
            current.save(update_fields=["status", "updated_at"])
        _audit(request, audit.Action.CHANGE, current, current.status)
    return current
