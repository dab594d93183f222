"""Pump records: register, change and deactivate a pump, with the checks on its fields and dates.

Also the field checks the pump's history (``pumps.services.history``) shares: decimals, aware moments,
the implant day, and the audit row for a write made for a person. Each write runs in
``pumps.services.schedules.pump_change`` (or recomputes the schedule itself on create); errors name
the field (``ValidationError``).
"""

from __future__ import annotations

from datetime import date, datetime, time, tzinfo
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from pumps.models import Pump
from pumps.models.pumps import PUMP_MODEL_SPECS
from rx.models import Patient
from rx.services import audit

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
    "audit_for_request",
    "user_or_none",
    "parse_decimal",
    "aware_moment",
    "check_not_before_implant",
]

# Plausible pump dates: no implant before this day, a battery replacement at most this long after
# the implant.
EARLIEST_IMPLANT = date(1980, 1, 1)
MAX_BATTERY_LIFE_YEARS = 15

PUMP_EDITABLE_FIELDS = [
    "patient",
    "manufacturer",
    "model",
    "serial_number",
    "reservoir_volume_ml",
    "alarm_volume_ml",
    "implanted_on",
    "battery_replacement_on",
    "active",
    "notes",
]


def audit_for_request(request: HttpRequest | None, action: str, obj: models.Model, detail: str = "") -> None:
    """Record the change in the PHI audit log when it is made for a person (``request`` given)."""
    if request is not None:
        audit.audit_record(user=request.user, action=action, obj=obj, request=request, detail=detail)


def user_or_none(user: User | AnonymousUser | None) -> User | None:
    # An authenticated user is an AUTH_USER_MODEL (auth.User) row.
    return cast("User", user) if getattr(user, "is_authenticated", False) else None


# --- validation ---------------------------------------------------------------------------


def parse_decimal(
    value: object,
    field: str,
    *,
    minimum: Decimal | None = None,
    maximum: Decimal | None = None,
    places: int = 2,
    inclusive_min: bool = False,
) -> Decimal:
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


def aware_moment(value: object, field: str) -> datetime:
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


def _check_pump_dates(
    *, implanted_on: object, battery_replacement_on: object, clinic: Clinic | None, now: datetime
) -> None:
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
        raise ValidationError(
            {
                "battery_replacement_on": (
                    f"The battery replacement date must be within {MAX_BATTERY_LIFE_YEARS} years of the implant date."
                )
            }
        )


def check_not_before_implant(pump: Pump, moment: datetime, field: str) -> None:
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


def pump_create(
    *,
    patient: Patient,
    model: str,
    serial_number: str,
    alarm_volume_ml: object,
    implanted_on: date,
    manufacturer: str | None = None,
    reservoir_volume_ml: object = None,
    battery_replacement_on: date | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
    audit_detail: str = "",
    now: datetime | None = None,
) -> Pump:
    """Register a clinic patient's pump; manufacturer and reservoir default from the model."""
    if patient.clinic_id is None:
        raise ValidationError({"patient": "Pumps belong to clinic patients."})
    _check_pump_dates(
        implanted_on=implanted_on,
        battery_replacement_on=battery_replacement_on,
        clinic=patient.clinic,
        now=now or timezone.now(),
    )
    spec = _model_spec(model)
    pump = Pump(
        patient=patient,
        model=model,
        serial_number=(serial_number or "").strip(),
        manufacturer=manufacturer or spec[0],
        reservoir_volume_ml=(
            parse_decimal(reservoir_volume_ml, "reservoir_volume_ml", minimum=Decimal(0))
            if reservoir_volume_ml is not None
            else spec[1]
        ),
        alarm_volume_ml=parse_decimal(alarm_volume_ml, "alarm_volume_ml", minimum=Decimal(0)),
        implanted_on=implanted_on,
        battery_replacement_on=battery_replacement_on,
        notes=notes or "",
    )
    with transaction.atomic():
        _save_pump(_validated_pump(pump))
        pump_schedule_recompute(pump=pump, now=now, notify=False)
        schedule_change_announce([pump.pk])
        audit_for_request(request, audit.Action.CREATE, pump, audit_detail)
    return pump


def _apply_changes(pump: Pump, changes: dict[str, Any], now: datetime | None) -> None:
    """Set ``changes`` on the locked pump and check what they touch (the model's rules come after)."""
    for name, value in changes.items():
        if name in ("alarm_volume_ml", "reservoir_volume_ml"):
            value = parse_decimal(value, name, minimum=Decimal(0))
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
        _check_pump_dates(
            implanted_on=pump.implanted_on,
            battery_replacement_on=pump.battery_replacement_on,
            clinic=pump.patient.clinic,
            now=now or timezone.now(),
        )
    if "implanted_on" in changes:
        moments = [
            m
            for m in (
                pump.refills.order_by("filled_at").values_list("filled_at", flat=True).first(),
                pump.programs.order_by("effective_at").values_list("effective_at", flat=True).first(),
            )
            if m is not None
        ]
        if any(_before_day(pump.patient.clinic, m, pump.implanted_on) for m in moments):
            raise ValidationError({"implanted_on": "The pump has programs or refills before this implant date."})
    refill, _, _ = pump_history(pump)
    if refill and refill.volume_filled_ml > pump.reservoir_volume_ml:
        raise ValidationError({"reservoir_volume_ml": "The last refill holds more than this reservoir."})


def pump_update(
    *,
    pump: Pump,
    request: HttpRequest | None = None,
    audit_detail: str | None = None,
    now: datetime | None = None,
    **changes: Any,
) -> Pump:
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
        audit_for_request(
            request, audit.Action.CHANGE, locked, ",".join(sorted(changes)) if audit_detail is None else audit_detail
        )
    locked.refresh_from_db()
    return locked


def pump_deactivate(*, pump: Pump, request: HttpRequest | None = None, now: datetime | None = None) -> Pump:
    """Mark the pump as no longer in use (explanted, replaced). Its history is kept."""
    return pump_update(pump=pump, active=False, request=request, audit_detail="deactivated", now=now)
