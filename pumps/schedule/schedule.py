"""The refill schedule of an implanted intrathecal pump and its warnings. Pure: no ORM, no Django.

From the reservoir projection (``pumps.schedule.projection``) this computes the clinic-local alarm,
empty and 180-day dates, the refill due date and, through ``core.calendar.ShippingPolicy``, the
refill kit's ship-by date; then the warnings a clinician must see.

- stability limit = fill date + 180 days; refill due = min(alarm date, stability limit) - buffer;
- the kit is timed for the appointment (or the refill due date), never later than the last safe
  refill day (the day before the alarm date, and at most the stability limit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from core.calendar import ShippingPolicy, ShipPlan

from .projection import Program, Projection, PumpSpec, Refill, local_event_date, project, require_aware

__all__ = ["CRITICAL", "WARNING", "STABILITY_DAYS", "ScheduleWarning", "Schedule", "compute_schedule"]

CRITICAL = "critical"
WARNING = "warning"
SEVERITY_RANK = {CRITICAL: 0, WARNING: 1}
# Labelled pumps are refilled within 180 days at most, whatever volume remains (drug stability).
STABILITY_DAYS = 180


@dataclass(frozen=True)
class ScheduleWarning:
    code: str
    severity: str
    message: str


@dataclass(frozen=True)
class Schedule:
    """Everything the clinic and the kit dispatch need to know about one pump's next refill.

    Dates are clinic-local calendar dates except the shipping ones (``ship_by``,
    ``expected_delivery``, ``required_delivery``), which are the pharmacy's (carrier) dates.
    Every field but ``warnings`` is None when the schedule is incomplete (no refill or no program).
    """

    now: datetime
    flow_ml_per_day: Decimal | None = None
    current_volume_ml: Decimal | None = None
    alarm_at: datetime | None = None
    alarm_date: date | None = None
    empty_at: datetime | None = None
    empty_date: date | None = None
    stability_limit_date: date | None = None
    refill_due: date | None = None
    latest_safe_refill_date: date | None = None
    appointment_at: datetime | None = None
    appointment_date: date | None = None
    need_by: date | None = None
    required_delivery: date | None = None
    ship_by: date | None = None
    ship_by_deadline: datetime | None = None
    expected_delivery: date | None = None
    kit_feasible: bool | None = None
    warnings: tuple[ScheduleWarning, ...] = ()
    projection: Projection | None = field(default=None, repr=False, compare=False)

    @property
    def has_critical_warning(self) -> bool:
        return any(w.severity == CRITICAL for w in self.warnings)

    @property
    def warning_codes(self) -> list[str]:
        return [w.code for w in self.warnings]


def _sorted(warnings: list[ScheduleWarning]) -> tuple[ScheduleWarning, ...]:
    return tuple(sorted(warnings, key=lambda w: (SEVERITY_RANK[w.severity], w.code)))


@dataclass(frozen=True)
class _CycleDates:
    """The clinic-local dates of the refill cycle that ``compute_schedule`` derives from the projection."""

    alarm_date: date
    empty_date: date
    stability_limit_date: date
    refill_due: date
    latest_safe: date
    appointment_date: date | None
    need_by: date


def _cycle_dates(
    *,
    refill: Refill,
    projection: Projection,
    appointment_at: datetime | None,
    zone: ZoneInfo,
    buffer_days: int,
    stability_days: int,
) -> _CycleDates:
    alarm_date = local_event_date(start=refill.filled_at, moment=projection.alarm_at, zone=zone)
    empty_date = local_event_date(start=refill.filled_at, moment=projection.empty_at, zone=zone)
    fill_date = refill.filled_at.astimezone(zone).date()
    stability_limit_date = fill_date + timedelta(days=stability_days)
    refill_due = min(alarm_date, stability_limit_date) - timedelta(days=buffer_days)
    latest_safe = min(alarm_date - timedelta(days=1), stability_limit_date)
    appointment_date = appointment_at.astimezone(zone).date() if appointment_at else None
    need_by = min(appointment_date or refill_due, latest_safe)
    return _CycleDates(alarm_date, empty_date, stability_limit_date, refill_due, latest_safe, appointment_date, need_by)


def _incomplete(*, now: datetime, refill: Refill | None, appointment_at: datetime | None, zone: ZoneInfo) -> Schedule:
    """The schedule of a pump without a refill or a program: nothing can be dated, which is critical."""
    missing = "refill" if refill is None else "pump program"
    return Schedule(
        now=now,
        appointment_at=appointment_at,
        appointment_date=appointment_at.astimezone(zone).date() if appointment_at else None,
        warnings=(
            ScheduleWarning(
                "schedule_incomplete",
                CRITICAL,
                f"No {missing} is recorded, so the alarm date and the kit's ship-by date cannot be "
                f"computed. Record the last refill and the current program.",
            ),
        ),
    )


def _concentration_warnings(projection: Projection, refill: Refill, zone: ZoneInfo) -> list[ScheduleWarning]:
    """A program (before the pump runs empty) at another concentration than the one filled: critical."""
    for segment in projection.segments:
        if segment.start >= projection.empty_at:
            break
        if segment.program.concentration_mcg_per_ml != refill.concentration_mcg_per_ml:
            return [
                ScheduleWarning(
                    "concentration_mismatch",
                    CRITICAL,
                    f"The pump is programmed for {segment.program.concentration_mcg_per_ml} mcg/mL from "
                    f"{segment.start.astimezone(zone):%Y-%m-%d %H:%M} but was filled with "
                    f"{refill.concentration_mcg_per_ml} mcg/mL: the delivered dose and these dates are wrong.",
                )
            ]
    return []


def _overdue_warnings(
    *, now: datetime, projection: Projection, dates: _CycleDates, zone: ZoneInfo, stability_days: int
) -> list[ScheduleWarning]:
    today = now.astimezone(zone).date()
    if now >= projection.alarm_at:
        return [
            ScheduleWarning(
                "refill_overdue", CRITICAL, f"The reservoir reached the alarm volume on {dates.alarm_date}; refill now."
            )
        ]
    if today > dates.stability_limit_date:
        return [
            ScheduleWarning(
                "refill_overdue",
                CRITICAL,
                f"The drug passed its {stability_days}-day stability limit on {dates.stability_limit_date}; "
                f"refill now.",
            )
        ]
    return []


def _appointment_warnings(
    *, appointment_at: datetime | None, now: datetime, dates: _CycleDates, buffer_days: int, stability_days: int
) -> list[ScheduleWarning]:
    """No appointment (a warning), or one that has passed or comes too late for the reservoir or the drug."""
    if appointment_at is None:
        return [
            ScheduleWarning(
                "no_appointment",
                WARNING,
                f"No refill appointment is scheduled; the refill is due by {dates.refill_due}.",
            )
        ]
    day = dates.appointment_date
    assert day is not None  # the date of appointment_at, which is set
    warnings = []
    if appointment_at < now:
        warnings.append(
            ScheduleWarning(
                "appointment_overdue", CRITICAL, f"The appointment of {day} has passed and no refill was recorded."
            )
        )
    if day >= dates.alarm_date:
        warnings.append(
            ScheduleWarning(
                "appointment_after_alarm",
                CRITICAL,
                f"The appointment ({day}) is on or after the alarm date ({dates.alarm_date}).",
            )
        )
    if day >= dates.empty_date:
        warnings.append(
            ScheduleWarning(
                "appointment_after_empty",
                CRITICAL,
                f"The appointment ({day}) is on or after the date the pump runs empty ({dates.empty_date}).",
            )
        )
    if day > dates.stability_limit_date:
        warnings.append(
            ScheduleWarning(
                "appointment_after_stability_limit",
                CRITICAL,
                f"The appointment ({day}) is after the {stability_days}-day stability limit "
                f"({dates.stability_limit_date}).",
            )
        )
    if dates.refill_due < day < dates.alarm_date:
        warnings.append(
            ScheduleWarning(
                "appointment_after_refill_due",
                WARNING,
                f"The appointment ({day}) is after the refill due date ({dates.refill_due}), "
                f"inside the clinic's {buffer_days}-day buffer before the alarm.",
            )
        )
    return warnings


def _kit_warnings(plan: ShipPlan, need_by: date) -> list[ScheduleWarning]:
    if plan.feasible:
        return []
    if plan.ship_by is None:
        reason = "no business day is available to ship it"
    else:
        reason = f"it had to ship by {plan.ship_by}"
    return [
        ScheduleWarning(
            "kit_cannot_arrive",
            CRITICAL,
            f"The refill kit cannot arrive by {plan.required_delivery} for the refill on {need_by}: {reason}; "
            f"shipped now it arrives on {plan.expected_delivery}.",
        )
    ]


def _battery_warnings(pump: PumpSpec, dates: _CycleDates) -> list[ScheduleWarning]:
    next_refill = dates.appointment_date or dates.refill_due
    if pump.battery_replacement_on is not None and pump.battery_replacement_on <= next_refill:
        return [
            ScheduleWarning(
                "battery_before_refill",
                WARNING,
                f"The battery replacement date ({pump.battery_replacement_on}) comes before the next refill "
                f"({next_refill}).",
            )
        ]
    return []


def _dated_schedule(
    *,
    now: datetime,
    refill: Refill,
    appointment_at: datetime | None,
    projection: Projection,
    dates: _CycleDates,
    plan: ShipPlan,
    warnings: list[ScheduleWarning],
) -> Schedule:
    """The complete schedule: the projection's moments, the cycle's dates, the kit's plan, sorted warnings."""
    return Schedule(
        now=now,
        flow_ml_per_day=projection.flow_at(max(now, refill.filled_at)),
        current_volume_ml=projection.volume_at(now),
        alarm_at=projection.alarm_at,
        alarm_date=dates.alarm_date,
        empty_at=projection.empty_at,
        empty_date=dates.empty_date,
        stability_limit_date=dates.stability_limit_date,
        refill_due=dates.refill_due,
        latest_safe_refill_date=dates.latest_safe,
        appointment_at=appointment_at,
        appointment_date=dates.appointment_date,
        need_by=dates.need_by,
        required_delivery=plan.required_delivery,
        ship_by=plan.ship_by,
        ship_by_deadline=plan.ship_by_deadline,
        expected_delivery=plan.expected_delivery,
        kit_feasible=plan.feasible,
        warnings=_sorted(warnings),
        projection=projection,
    )


def compute_schedule(
    *,
    pump: PumpSpec,
    refill: Refill | None,
    programs: Sequence[Program],
    appointment_at: datetime | None,
    buffer_days: int,
    clinic_time_zone: str,
    shipping: ShippingPolicy,
    now: datetime,
    stability_days: int = STABILITY_DAYS,
) -> Schedule:
    """Compute the refill schedule and its warnings for one pump, as seen at ``now``.

    ``refill``: the last refill (None if none is recorded). ``programs``: the program history (any
    order; only the one in effect at the fill and later ones matter). ``appointment_at``: the next
    scheduled refill appointment, if any. ``buffer_days``: the clinic's refill buffer before the
    alarm date. The kit is timed for ``need_by``: the appointment date, or the refill due date when
    there is none, and never later than the last safe refill day (the day before the alarm date,
    and at most the stability limit), so that an appointment flagged as too late is not served by a
    kit that is late too.
    """
    now = require_aware(now, "now")
    if appointment_at is not None:
        appointment_at = require_aware(appointment_at, "appointment_at")
    if buffer_days < 0:
        raise ValueError("buffer_days must not be negative")
    zone = ZoneInfo(clinic_time_zone)
    if refill is None or not programs:
        return _incomplete(now=now, refill=refill, appointment_at=appointment_at, zone=zone)
    if refill.volume_ml > pump.reservoir_ml:
        raise ValueError("the refill volume exceeds the reservoir volume")

    return _complete_schedule(
        pump=pump,
        refill=refill,
        programs=programs,
        appointment_at=appointment_at,
        buffer_days=buffer_days,
        zone=zone,
        shipping=shipping,
        now=now,
        stability_days=stability_days,
    )


def _complete_schedule(
    *,
    pump: PumpSpec,
    refill: Refill,
    programs: Sequence[Program],
    appointment_at: datetime | None,
    buffer_days: int,
    zone: ZoneInfo,
    shipping: ShippingPolicy,
    now: datetime,
    stability_days: int,
) -> Schedule:
    """The schedule of a pump with a refill and a program (inputs checked): projection, dates, kit, warnings."""
    projection = project(refill=refill, programs=programs, alarm_volume_ml=pump.alarm_volume_ml)
    dates = _cycle_dates(
        refill=refill,
        projection=projection,
        appointment_at=appointment_at,
        zone=zone,
        buffer_days=buffer_days,
        stability_days=stability_days,
    )
    plan = shipping.plan(need_by=dates.need_by, now=now)
    warnings = [
        *_concentration_warnings(projection, refill, zone),
        *_overdue_warnings(now=now, projection=projection, dates=dates, zone=zone, stability_days=stability_days),
        *_appointment_warnings(
            appointment_at=appointment_at, now=now, dates=dates, buffer_days=buffer_days, stability_days=stability_days
        ),
        *_kit_warnings(plan, dates.need_by),
        *_battery_warnings(pump, dates),
    ]
    return _dated_schedule(
        now=now,
        refill=refill,
        appointment_at=appointment_at,
        projection=projection,
        dates=dates,
        plan=plan,
        warnings=warnings,
    )
