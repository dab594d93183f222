"""The reservoir of an implanted intrathecal pump over time. Pure: no ORM, no Django.

From the last refill and the program history this projects the volume left in the reservoir, the
moment it reaches the low-reservoir alarm volume and the moment it runs empty
(``pumps.schedule.schedule`` turns these into the refill schedule and its warnings).

Arithmetic (DOMAIN.md section 4):
- flow (mL/day) = daily dose (mcg/day) / programmed concentration (mcg/mL);
- the volume falls linearly while a program is in effect; a new program changes the slope from
  its effective moment, starting from the volume left at that moment (piecewise-linear volume);
- alarm when the volume reaches the alarm volume, empty when it reaches zero.

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
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

__all__ = [
    "HORIZON_DAYS",
    "Program",
    "Refill",
    "PumpSpec",
    "Segment",
    "Projection",
    "flow_ml_per_day",
    "project",
    "local_event_date",
    "require_aware",
]

# Events further out than this are clamped to it (an earlier date than the truth, so safe); no
# real pump gets there, because the 180-day limit always comes first.
HORIZON_DAYS = 3650

_MICROSECONDS_PER_DAY = Decimal(86_400_000_000)
UTC = ZoneInfo("UTC")
_PRECISION = 50


def _ctx(rounding: str) -> decimal.Context:
    return decimal.Context(prec=_PRECISION, rounding=rounding, traps=[decimal.InvalidOperation, decimal.DivisionByZero])


def _dec(value: Decimal | int | str, name: str) -> Decimal:
    if isinstance(value, float):
        raise TypeError(f"{name} must be a Decimal, int or str, not float")
    try:
        return Decimal(value)
    except (decimal.InvalidOperation, TypeError, ValueError):
        raise ValueError(f"{name} is not a number: {value!r}") from None


def require_aware(moment: datetime, name: str) -> datetime:
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


def flow_ml_per_day(daily_dose_mcg: Decimal | int | str, concentration_mcg_per_ml: Decimal | int | str) -> Decimal:
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "effective_at", require_aware(self.effective_at, "effective_at"))
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

    def __post_init__(self) -> None:
        object.__setattr__(self, "filled_at", require_aware(self.filled_at, "filled_at"))
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

    def __post_init__(self) -> None:
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
        moment = require_aware(moment, "moment")
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
        moment = require_aware(moment, "moment")
        if moment <= self.refill.filled_at:
            return self.refill.volume_ml
        return self.segment_at(moment).volume_at(moment)

    def flow_at(self, moment: datetime) -> Decimal:
        moment = require_aware(moment, "moment")
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


def project(*, refill: Refill, programs: Sequence[Program], alarm_volume_ml: Decimal | int | str) -> Projection:
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
    # The last segment never ends and its flow is positive: it reaches every volume.
    assert alarm_at is not None and empty_at is not None
    return Projection(refill=refill, segments=tuple(segments), alarm_at=alarm_at, empty_at=empty_at)


def local_event_date(*, start: datetime, moment: datetime, zone: ZoneInfo) -> date:
    """Return the clinic-local date of ``moment``, an event projected from ``start``.

    The pump runs in absolute time, but a clinician counts days on the wall clock ("day 72 after
    the fill"). Across a clock change the two can fall on different dates when the event is near
    midnight; the earlier date is taken (towards safety).
    """
    start, moment = require_aware(start, "start"), require_aware(moment, "moment")
    absolute = moment.astimezone(zone).date()
    wall = (start.astimezone(zone).replace(tzinfo=None) + (moment - start)).date()
    return min(absolute, wall)
