"""The refill schedule of an implanted intrathecal pump. Pure: no ORM, no Django.

From the last refill and the program history this computes the reservoir volume over time, the
moment it reaches the low-reservoir alarm volume, the moment it runs empty, the 180-day drug
stability limit, the refill due date and, through ``calendar.ShippingPolicy``, the refill kit's
ship-by date; then the warnings a clinician must see.

Arithmetic (DOMAIN.md section 4):
- flow (mL/day) = daily dose (mcg/day) / programmed concentration (mcg/mL);
- the volume falls linearly while a program is in effect; a new program changes the slope from
  its effective moment, starting from the volume left at that moment (piecewise-linear volume);
- alarm when the volume reaches the alarm volume, empty when it reaches zero;
- stability limit = fill date + 180 days; refill due = min(alarm date, stability limit) - buffer.

Seed example: 20 mL of 2000 mcg/mL at 500 mcg/day, alarm 2 mL: flow 0.25 mL/day, alarm on day 72,
empty on day 80.

Rounding always goes towards safety (a late kit can kill: see the black box warning): flows are
rounded up, volumes left and days until an event are rounded down, the alarm moment is truncated
to the microsecond, and a local date is the earlier of the two readings a clock change can give.
Every value stays a Decimal; nothing passes through float.
"""

from __future__ import annotations

import decimal
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from core.calendar import ShippingPolicy, ShipPlan

__all__ = [
    "CRITICAL",
    "WARNING",
    "STABILITY_DAYS",
    "Program",
    "Refill",
    "PumpSpec",
    "Segment",
    "Projection",
    "ScheduleWarning",
    "Schedule",
    "flow_ml_per_day",
    "project",
    "compute_schedule",
    "local_event_date",
]

CRITICAL = "critical"
WARNING = "warning"
SEVERITY_RANK = {CRITICAL: 0, WARNING: 1}
# Labelled pumps are refilled within 180 days at most, whatever volume remains (drug stability).
STABILITY_DAYS = 180
# Events further out than this are clamped to it (an earlier date than the truth, so safe); no
# real pump gets there, because the 180-day limit always comes first.
HORIZON_DAYS = 3650

_MICROSECONDS_PER_DAY = Decimal(86_400_000_000)
UTC = ZoneInfo("UTC")
_PRECISION = 50


def _ctx(rounding: str) -> decimal.Context:
    return decimal.Context(prec=_PRECISION, rounding=rounding, traps=[decimal.InvalidOperation, decimal.DivisionByZero])


def _dec(value, name: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or str, not float")
    try:
        return Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{name} is not a number: {value!r}") from None


def _require_aware(moment: datetime, name: str) -> datetime:
    """Return ``moment`` in UTC, or raise if it is naive.

    Python adds and subtracts aware datetimes that share a tzinfo on the wall clock, ignoring a
    clock change in between; the pump runs in absolute time, so every moment is moved to UTC first.
    """
    if not isinstance(moment, datetime) or moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime")
    return moment.astimezone(UTC)


def _days_between(start: datetime, end: datetime) -> Decimal:
    # More time elapsed means less drug left: round up.
    return _ctx(ROUND_CEILING).divide(Decimal((end - start) // timedelta(microseconds=1)), _MICROSECONDS_PER_DAY)


def _days_to_timedelta(days: Decimal) -> timedelta:
    # Truncate to the microsecond downwards: the event is never placed later than computed.
    days = min(days, Decimal(HORIZON_DAYS))
    micro = _ctx(ROUND_FLOOR).multiply(days, _MICROSECONDS_PER_DAY).to_integral_value(rounding=ROUND_FLOOR)
    return timedelta(microseconds=int(micro))


def flow_ml_per_day(daily_dose_mcg, concentration_mcg_per_ml) -> Decimal:
    """Return the flow in mL/day for a daily dose and a concentration, rounded up (towards safety)."""
    dose = _dec(daily_dose_mcg, "daily_dose_mcg")
    conc = _dec(concentration_mcg_per_ml, "concentration_mcg_per_ml")
    if dose <= 0:
        raise ValueError("daily_dose_mcg must be positive")
    if conc <= 0:
        raise ValueError("concentration_mcg_per_ml must be positive")
    # A higher flow means an earlier alarm: round the quotient up.
    return _ctx(ROUND_CEILING).divide(dose, conc)


@dataclass(frozen=True)
class Program:
    """A pump program: from ``effective_at`` the pump delivers ``daily_dose_mcg`` per day, computing the
    volume from the concentration it is told the reservoir holds."""

    effective_at: datetime
    daily_dose_mcg: Decimal
    concentration_mcg_per_ml: Decimal

    def __post_init__(self):
        object.__setattr__(self, "effective_at", _require_aware(self.effective_at, "effective_at"))
        object.__setattr__(self, "daily_dose_mcg", _dec(self.daily_dose_mcg, "daily_dose_mcg"))
        object.__setattr__(
            self, "concentration_mcg_per_ml", _dec(self.concentration_mcg_per_ml, "concentration_mcg_per_ml")
        )

    @property
    def flow_ml_per_day(self) -> Decimal:
        return flow_ml_per_day(self.daily_dose_mcg, self.concentration_mcg_per_ml)


@dataclass(frozen=True)
class Refill:
    """The last refill: the reservoir holds ``volume_ml`` of ``concentration_mcg_per_ml`` from ``filled_at``."""

    filled_at: datetime
    volume_ml: Decimal
    concentration_mcg_per_ml: Decimal

    def __post_init__(self):
        object.__setattr__(self, "filled_at", _require_aware(self.filled_at, "filled_at"))
        object.__setattr__(self, "volume_ml", _dec(self.volume_ml, "volume_ml"))
        object.__setattr__(
            self, "concentration_mcg_per_ml", _dec(self.concentration_mcg_per_ml, "concentration_mcg_per_ml")
        )
        if self.volume_ml <= 0:
            raise ValueError("volume_ml must be positive")
        if self.concentration_mcg_per_ml <= 0:
            raise ValueError("concentration_mcg_per_ml must be positive")


@dataclass(frozen=True)
class PumpSpec:
    """The pump's own numbers."""

    reservoir_ml: Decimal
    alarm_volume_ml: Decimal
    battery_replacement_on: date | None = None

    def __post_init__(self):
        object.__setattr__(self, "reservoir_ml", _dec(self.reservoir_ml, "reservoir_ml"))
        object.__setattr__(self, "alarm_volume_ml", _dec(self.alarm_volume_ml, "alarm_volume_ml"))
        if self.reservoir_ml <= 0:
            raise ValueError("reservoir_ml must be positive")
        if not 0 < self.alarm_volume_ml < self.reservoir_ml:
            raise ValueError("alarm_volume_ml must be positive and below the reservoir volume")


@dataclass(frozen=True)
class Segment:
    """A stretch of time with one flow: the volume is ``start_volume_ml`` at ``start`` and falls by
    ``flow_ml_per_day`` per day until ``end`` (None: for ever)."""

    start: datetime
    end: datetime | None
    start_volume_ml: Decimal
    flow_ml_per_day: Decimal
    program: Program

    def volume_at(self, moment: datetime) -> Decimal:
        moment = _require_aware(moment, "moment")
        used = _ctx(ROUND_CEILING).multiply(self.flow_ml_per_day, _days_between(self.start, moment))
        return max(Decimal(0), _ctx(ROUND_FLOOR).subtract(self.start_volume_ml, used))

    def moment_volume_reaches(self, volume: Decimal) -> datetime | None:
        """Return when this segment's volume reaches ``volume``, or None if not within the segment."""
        if self.start_volume_ml <= volume:
            return self.start
        # Fewer days means an earlier event: round down.
        floor = _ctx(ROUND_FLOOR)
        days = floor.divide(floor.subtract(self.start_volume_ml, volume), self.flow_ml_per_day)
        moment = self.start + _days_to_timedelta(days)
        if self.end is not None and moment > self.end:
            return None
        return moment


@dataclass(frozen=True)
class Projection:
    """Reservoir volume over time after a refill: a list of segments, and the alarm and empty moments."""

    refill: Refill
    segments: tuple[Segment, ...]
    alarm_at: datetime
    empty_at: datetime

    def segment_at(self, moment: datetime) -> Segment:
        current = self.segments[0]
        for segment in self.segments:
            if segment.start <= moment:
                current = segment
        return current

    def volume_at(self, moment: datetime) -> Decimal:
        """Return the projected volume at ``moment`` (the fill volume before the fill)."""
        moment = _require_aware(moment, "moment")
        if moment <= self.refill.filled_at:
            return self.refill.volume_ml
        return self.segment_at(moment).volume_at(moment)

    def flow_at(self, moment: datetime) -> Decimal:
        moment = _require_aware(moment, "moment")
        return self.segment_at(moment).flow_ml_per_day

    def points(self) -> list[tuple[datetime, Decimal]]:
        """Return the corners of the volume curve, from the fill to the empty moment."""
        pts = [(self.refill.filled_at, self.refill.volume_ml)]
        for segment in self.segments[1:]:
            if segment.start >= self.empty_at:
                break
            pts.append((segment.start, segment.start_volume_ml))
        pts.append((self.alarm_at, self.volume_at(self.alarm_at)))
        pts.append((self.empty_at, Decimal(0)))
        return sorted(set(pts), key=lambda p: (p[0], -p[1]))


def project(*, refill: Refill, programs: Sequence[Program], alarm_volume_ml) -> Projection:
    """Project the reservoir volume from ``refill`` under the program history ``programs``.

    The program in effect at the fill is the latest one that took effect at or before it; later
    programs change the flow from their own moment. If every program starts after the fill, the
    first one is assumed to run from the fill (the pump was certainly delivering drug: assuming
    so can only make the alarm earlier).
    """
    if not programs:
        raise ValueError("at least one program is needed")
    alarm_volume = _dec(alarm_volume_ml, "alarm_volume_ml")
    ordered = sorted(programs, key=lambda p: p.effective_at)
    before = [p for p in ordered if p.effective_at <= refill.filled_at]
    after = [p for p in ordered if p.effective_at > refill.filled_at]
    if before:
        in_effect = before[-1]
    else:
        in_effect, after = after[0], after[1:]
    steps = [(refill.filled_at, in_effect)] + [(p.effective_at, p) for p in after]

    segments: list[Segment] = []
    volume = refill.volume_ml
    for index, (start, program) in enumerate(steps):
        end = steps[index + 1][0] if index + 1 < len(steps) else None
        segment = Segment(start, end, volume, program.flow_ml_per_day, program)
        segments.append(segment)
        if end is not None:
            volume = segment.volume_at(end)

    alarm_at = empty_at = None
    for segment in segments:
        if alarm_at is None:
            alarm_at = segment.moment_volume_reaches(alarm_volume)
        if empty_at is None:
            empty_at = segment.moment_volume_reaches(Decimal(0))
        if empty_at is not None:
            break
    return Projection(refill=refill, segments=tuple(segments), alarm_at=alarm_at, empty_at=empty_at)


def local_event_date(*, start: datetime, moment: datetime, zone: ZoneInfo) -> date:
    """Return the clinic-local date of ``moment``, an event projected from ``start``.

    The pump runs in absolute time, but a clinician counts days on the wall clock ("day 72 after
    the fill"). Across a clock change the two can fall on different dates when the event is near
    midnight; the earlier date is taken (towards safety).
    """
    start, moment = _require_aware(start, "start"), _require_aware(moment, "moment")
    absolute = moment.astimezone(zone).date()
    wall = (start.astimezone(zone).replace(tzinfo=None) + (moment - start)).date()
    return min(absolute, wall)


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
    now = _require_aware(now, "now")
    if appointment_at is not None:
        appointment_at = _require_aware(appointment_at, "appointment_at")
    if buffer_days < 0:
        raise ValueError("buffer_days must not be negative")
    zone = ZoneInfo(clinic_time_zone)

    if refill is None or not programs:
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
    if refill.volume_ml > pump.reservoir_ml:
        raise ValueError("the refill volume exceeds the reservoir volume")

    projection = project(refill=refill, programs=programs, alarm_volume_ml=pump.alarm_volume_ml)
    alarm_date = local_event_date(start=refill.filled_at, moment=projection.alarm_at, zone=zone)
    empty_date = local_event_date(start=refill.filled_at, moment=projection.empty_at, zone=zone)
    fill_date = refill.filled_at.astimezone(zone).date()
    stability_limit_date = fill_date + timedelta(days=stability_days)
    refill_due = min(alarm_date, stability_limit_date) - timedelta(days=buffer_days)
    latest_safe = min(alarm_date - timedelta(days=1), stability_limit_date)

    appointment_date = appointment_at.astimezone(zone).date() if appointment_at else None
    need_by = min(appointment_date or refill_due, latest_safe)
    plan: ShipPlan = shipping.plan(need_by=need_by, now=now)

    warnings: list[ScheduleWarning] = []

    def warn(code: str, severity: str, message: str) -> None:
        warnings.append(ScheduleWarning(code, severity, message))

    for segment in projection.segments:
        if segment.start >= projection.empty_at:
            break
        if segment.program.concentration_mcg_per_ml != refill.concentration_mcg_per_ml:
            warn(
                "concentration_mismatch",
                CRITICAL,
                f"The pump is programmed for {segment.program.concentration_mcg_per_ml} mcg/mL from "
                f"{segment.start.astimezone(zone):%Y-%m-%d %H:%M} but was filled with "
                f"{refill.concentration_mcg_per_ml} mcg/mL: the delivered dose and these dates are wrong.",
            )
            break

    today = now.astimezone(zone).date()
    if now >= projection.alarm_at:
        warn("refill_overdue", CRITICAL, f"The reservoir reached the alarm volume on {alarm_date}; refill now.")
    elif today > stability_limit_date:
        warn(
            "refill_overdue",
            CRITICAL,
            f"The drug passed its {stability_days}-day stability limit on {stability_limit_date}; refill now.",
        )

    if appointment_at is None:
        warn("no_appointment", WARNING, f"No refill appointment is scheduled; the refill is due by {refill_due}.")
    else:
        if appointment_at < now:
            warn(
                "appointment_overdue",
                CRITICAL,
                f"The appointment of {appointment_date} has passed and no refill was recorded.",
            )
        if appointment_date >= alarm_date:
            warn(
                "appointment_after_alarm",
                CRITICAL,
                f"The appointment ({appointment_date}) is on or after the alarm date ({alarm_date}).",
            )
        if appointment_date >= empty_date:
            warn(
                "appointment_after_empty",
                CRITICAL,
                f"The appointment ({appointment_date}) is on or after the date the pump runs empty ({empty_date}).",
            )
        if appointment_date > stability_limit_date:
            warn(
                "appointment_after_stability_limit",
                CRITICAL,
                f"The appointment ({appointment_date}) is after the {stability_days}-day stability limit "
                f"({stability_limit_date}).",
            )
        if refill_due < appointment_date < alarm_date:
            warn(
                "appointment_after_refill_due",
                WARNING,
                f"The appointment ({appointment_date}) is after the refill due date ({refill_due}), "
                f"inside the clinic's {buffer_days}-day buffer before the alarm.",
            )

    if not plan.feasible:
        if plan.ship_by is None:
            reason = "no business day is available to ship it"
        else:
            reason = f"it had to ship by {plan.ship_by}"
        warn(
            "kit_cannot_arrive",
            CRITICAL,
            f"The refill kit cannot arrive by {plan.required_delivery} for the refill on {need_by}: {reason}; "
            f"shipped now it arrives on {plan.expected_delivery}.",
        )

    next_refill = appointment_date or refill_due
    if pump.battery_replacement_on is not None and pump.battery_replacement_on <= next_refill:
        warn(
            "battery_before_refill",
            WARNING,
            f"The battery replacement date ({pump.battery_replacement_on}) comes before the next refill "
            f"({next_refill}).",
        )

    return Schedule(
        now=now,
        flow_ml_per_day=projection.flow_at(max(now, refill.filled_at)),
        current_volume_ml=projection.volume_at(now),
        alarm_at=projection.alarm_at,
        alarm_date=alarm_date,
        empty_at=projection.empty_at,
        empty_date=empty_date,
        stability_limit_date=stability_limit_date,
        refill_due=refill_due,
        latest_safe_refill_date=latest_safe,
        appointment_at=appointment_at,
        appointment_date=appointment_date,
        need_by=need_by,
        required_delivery=plan.required_delivery,
        ship_by=plan.ship_by,
        ship_by_deadline=plan.ship_by_deadline,
        expected_delivery=plan.expected_delivery,
        kit_feasible=plan.feasible,
        warnings=_sorted(warnings),
        projection=projection,
    )
