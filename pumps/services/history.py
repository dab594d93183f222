"""The pump's history: its programs, refills and refill appointments.

Each write runs in ``pumps.services.schedules.pump_change``: under the pump's row lock, then the stored
schedule is recomputed and ``pump_schedule_changed`` sent after commit. A write made for a person is
recorded in the PHI audit log as theirs, in the same transaction. Errors name the field
(``ValidationError``) or say why the pump's state forbids the change (``Conflict``, 409).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, cast

from django.core.exceptions import ValidationError
from django.utils import timezone

from core.errors import Conflict
from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.models.pumps import MAX_CONCENTRATION, MAX_DAILY_DOSE
from rx.services import audit

from ..state import APPOINTMENT_TRANSITIONS, AppointmentStatus
from .records import audit_for_request, aware_moment, check_not_before_implant, parse_decimal, user_or_none
from .schedules import pump_change

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

__all__ = ["pump_program_set", "pump_refill_record", "pump_appointment_set", "pump_appointment_status_set"]

# A refill or program moment may be a little ahead of the server's clock (clinic devices).
CLOCK_SKEW = timedelta(minutes=5)
# A program takes effect at most this far ahead of now.
MAX_PROGRAM_AHEAD = timedelta(days=366)
# A refill marks the scheduled appointment done if the appointment was at most this long after it.
APPOINTMENT_COVERED_BY_REFILL = timedelta(days=1)


def pump_program_set(
    *,
    pump: Pump,
    daily_dose_mcg: object,
    concentration_mcg_per_ml: object,
    effective_at: datetime | None = None,
    user: User | AnonymousUser | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PumpProgram:
    """Record a new pump program (dose and concentration) from ``effective_at`` (default: now)."""
    now = now or timezone.now()
    effective_at = aware_moment(effective_at or now, "effective_at")
    if effective_at > now + MAX_PROGRAM_AHEAD:
        raise ValidationError({"effective_at": "A program cannot take effect more than a year from now."})
    dose = parse_decimal(daily_dose_mcg, "daily_dose_mcg", minimum=Decimal(0), maximum=MAX_DAILY_DOSE, places=3)
    concentration = parse_decimal(
        concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0), maximum=MAX_CONCENTRATION
    )
    with pump_change(pump, now=now) as change:
        locked = change.pump
        check_not_before_implant(locked, effective_at, "effective_at")
        if locked.programs.filter(effective_at=effective_at).exists():
            raise ValidationError({"effective_at": "A program already takes effect at this moment."})
        program = PumpProgram.objects.create(
            pump=locked,
            daily_dose_mcg=dose,
            concentration_mcg_per_ml=concentration,
            effective_at=effective_at,
            created_by=user_or_none(user),
        )
        audit_for_request(request, audit.Action.CREATE, program)
    return program


def pump_refill_record(
    *,
    pump: Pump,
    filled_at: datetime,
    volume_filled_ml: object,
    concentration_mcg_per_ml: object,
    residual_withdrawn_ml: object = Decimal("0"),
    notes: str = "",
    user: User | AnonymousUser | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> PumpRefill:
    """Record a refill. A scheduled appointment at most a day after the refill is marked done."""
    now = now or timezone.now()
    filled_at = aware_moment(filled_at, "filled_at")
    if filled_at > now + CLOCK_SKEW:
        raise ValidationError({"filled_at": "A refill cannot be recorded in the future."})
    concentration = parse_decimal(
        concentration_mcg_per_ml, "concentration_mcg_per_ml", minimum=Decimal(0), maximum=MAX_CONCENTRATION
    )
    with pump_change(pump, now=now) as change:
        locked = change.pump
        check_not_before_implant(locked, filled_at, "filled_at")
        reservoir = locked.reservoir_volume_ml
        volume = parse_decimal(volume_filled_ml, "volume_filled_ml", minimum=Decimal(0), maximum=reservoir)
        residual = parse_decimal(
            residual_withdrawn_ml if residual_withdrawn_ml is not None else 0,
            "residual_withdrawn_ml",
            minimum=Decimal(0),
            maximum=reservoir,
            inclusive_min=True,
        )
        if locked.refills.filter(filled_at=filled_at).exists():
            raise ValidationError({"filled_at": "A refill is already recorded at this moment."})
        refill = PumpRefill.objects.create(
            pump=locked,
            filled_at=filled_at,
            volume_filled_ml=volume,
            concentration_mcg_per_ml=concentration,
            residual_withdrawn_ml=residual,
            notes=notes or "",
            created_by=user_or_none(user),
        )
        locked.appointments.filter(
            status=RefillAppointment.Status.SCHEDULED, scheduled_at__lte=filled_at + APPOINTMENT_COVERED_BY_REFILL
        ).update(status=RefillAppointment.Status.DONE, updated_at=now)
        audit_for_request(request, audit.Action.CREATE, refill)
    return refill


def pump_appointment_set(
    *,
    pump: Pump,
    scheduled_at: datetime,
    user: User | AnonymousUser | None = None,
    request: HttpRequest | None = None,
    now: datetime | None = None,
) -> RefillAppointment:
    """Set the pump's next refill appointment (in the future); a scheduled one it replaces is cancelled."""
    now = now or timezone.now()
    scheduled_at = aware_moment(scheduled_at, "scheduled_at")
    if scheduled_at <= now:
        raise ValidationError({"scheduled_at": "The appointment must be in the future."})
    with pump_change(pump, now=now) as change:
        locked = change.pump
        if not locked.active:
            raise Conflict("This pump is no longer active.", code="pump_inactive")
        locked.appointments.filter(status=RefillAppointment.Status.SCHEDULED).update(
            status=RefillAppointment.Status.CANCELLED, updated_at=now
        )
        appointment = RefillAppointment.objects.create(
            pump=locked, scheduled_at=scheduled_at, created_by=user_or_none(user)
        )
        audit_for_request(request, audit.Action.CREATE, appointment)
    return appointment


def pump_appointment_status_set(
    *, appointment: RefillAppointment, status: str, request: HttpRequest | None = None, now: datetime | None = None
) -> RefillAppointment:
    """Mark a scheduled appointment done or cancelled (setting the status it has changes nothing)."""
    now = now or timezone.now()
    if status not in RefillAppointment.Status.values:
        raise ValidationError({"status": f"Choose one of: {', '.join(RefillAppointment.Status.values)}."})
    with pump_change(appointment.pump, now=now) as change:
        current = RefillAppointment.objects.get(pk=appointment.pk)
        if status == current.status:
            change.nothing_changed()
        elif status not in APPOINTMENT_TRANSITIONS[cast(AppointmentStatus, current.status)]:  # a stored status
            raise Conflict(
                f"An appointment that is {current.status} cannot become {status}.", code="invalid_transition"
            )
        else:
            current.status = status
            current.save(update_fields=["status", "updated_at"])
        audit_for_request(request, audit.Action.CHANGE, current, current.status)
    return current
