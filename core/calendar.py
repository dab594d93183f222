"""Business days, carrier cut-off hours and delivery lead times. Pure: no ORM, no Django.

The pharmacy ships on business days only: not on a weekend day and not on a holiday. The default
holidays are the US federal holidays from the ``holidays`` package (its US public calendar), with
the federal "observed" shift (a holiday on a Saturday is observed on the Friday before, on a Sunday
on the Monday after; so New Year's Day 2022, a Saturday, is observed on Friday 31 December 2021).
Carriers close on fewer days than the federal government; treating every federal holiday as closed
can only make the pharmacy ship earlier, never later, which is the safe direction for a refill kit.

A parcel handed to the carrier before the cut-off hour of a business day (pharmacy local time)
leaves that day; after the cut-off, or on a closed day, it leaves on the next business day. It is
delivered ``lead_business_days`` business days after the day it leaves.

Every date here is a calendar date; every moment is a timezone-aware datetime. The pharmacy's
time zone is passed in (the caller reads ``settings.PHARMACY_TIME_ZONE``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays as holiday_data

__all__ = ["BusinessCalendar", "ShippingPolicy", "ShipPlan", "us_federal_holidays"]

MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY = range(7)
# How far back or forward a business-day search may look before it gives up (a calendar with
# no business day in a quarter of a year is misconfigured, not a reason to loop forever).
MAX_SEARCH_DAYS = 92
UTC = ZoneInfo("UTC")


@lru_cache(maxsize=256)
def _us_federal_holidays_cached(year: int) -> frozenset[date]:
    listed = holiday_data.country_holidays("US", years=year, observed=True)
    if not listed.start_year <= year <= listed.end_year:
        # The package knows nothing outside its range; an empty year would open every holiday.
        raise ValueError(
            f"no US holiday data for {year} (the holidays package covers {listed.start_year}-{listed.end_year})"
        )
    # With observed=True the package lists both a weekend holiday and the weekday it is observed
    # on (New Year's Day of the next year included, on 31 December); the weekday is the day off.
    return frozenset(day for day in listed if day.year == year and day.weekday() < SATURDAY)


def us_federal_holidays(year: int) -> frozenset[date]:
    """Return the observed US federal holidays that fall in the calendar year ``year`` (5 U.S.C. 6103)."""
    return _us_federal_holidays_cached(year)


@dataclass(frozen=True)
class BusinessCalendar:
    """Which days are business days: not a weekend day, not a holiday.

    ``holiday_rule`` gives the holidays of a year (default: US federal, observed). ``extra_holidays``
    closes more days (a carrier's own closures, a snow day); ``removed_holidays`` opens a day the
    rule would close (a carrier that works on Columbus Day, if the pharmacy chooses to rely on it).
    """

    weekend: frozenset[int] = frozenset({SATURDAY, SUNDAY})
    holiday_rule: Callable[[int], Iterable[date]] = us_federal_holidays
    extra_holidays: frozenset[date] = field(default_factory=frozenset)
    removed_holidays: frozenset[date] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "weekend", frozenset(self.weekend))
        object.__setattr__(self, "extra_holidays", frozenset(self.extra_holidays))
        object.__setattr__(self, "removed_holidays", frozenset(self.removed_holidays))
        if not self.weekend <= set(range(7)):
            raise ValueError("weekend days are 0 (Monday) to 6 (Sunday)")

    def holidays(self, year: int) -> frozenset[date]:
        closed = {d for d in self.holiday_rule(year) if d.year == year}
        closed |= {d for d in self.extra_holidays if d.year == year}
        return frozenset(closed - self.removed_holidays)

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays(day.year)

    def next_business_day(self, day: date, *, inclusive: bool = False) -> date:
        """Return the first business day after ``day`` (or ``day`` itself when ``inclusive``)."""
        candidate = day if inclusive else day + timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_business_day(candidate):
                return candidate
            candidate += timedelta(days=1)
        raise ValueError(f"no business day within {MAX_SEARCH_DAYS} days after {day}")

    def previous_business_day(self, day: date, *, inclusive: bool = False) -> date:
        """Return the last business day before ``day`` (or ``day`` itself when ``inclusive``)."""
        candidate = day if inclusive else day - timedelta(days=1)
        for _ in range(MAX_SEARCH_DAYS):
            if self.is_business_day(candidate):
                return candidate
            candidate -= timedelta(days=1)
        raise ValueError(f"no business day within {MAX_SEARCH_DAYS} days before {day}")

    def add_business_days(self, day: date, n: int) -> date:
        """Return the date ``n`` business days after ``day`` (``n`` >= 0; 0 returns ``day``)."""
        if n < 0:
            raise ValueError("n must not be negative")
        for _ in range(n):
            day = self.next_business_day(day)
        return day

    def business_days_between(self, start: date, end: date) -> int:
        """Count business days in the half-open interval (start, end]."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_business_day(day)
        return count


@dataclass(frozen=True)
class ShipPlan:
    """When a kit must leave for a delivery date, and when it would arrive.

    ``ship_by`` is the latest business day on which a kit handed over before that day's cut-off
    (``ship_by_deadline``) is delivered on or before ``required_delivery``; None when no business
    day within the search window works. ``earliest_ship_date`` is the first day the kit can still
    leave, counted from ``now``. ``feasible`` says whether ``ship_by`` is still ahead of us.
    ``expected_delivery`` is the delivery date if the kit leaves on ``ship_by`` (or, when that is
    no longer possible, as soon as it can leave).
    """

    required_delivery: date
    ship_by: date | None
    ship_by_deadline: datetime | None
    earliest_ship_date: date
    expected_delivery: date
    feasible: bool


@dataclass(frozen=True)
class ShippingPolicy:
    """The carrier's rules, in the pharmacy's local time.

    ``time_zone``: an IANA name (settings.PHARMACY_TIME_ZONE). ``cutoff``: the local time after which
    a parcel leaves the next business day. ``lead_business_days``: business days from leaving to
    delivery. ``safety_margin_days``: calendar days the kit must be at the clinic before the day it
    is needed (at least 1, so the kit is never expected on the appointment day itself).
    """

    time_zone: str
    cutoff: time = time(15, 0)
    lead_business_days: int = 2
    safety_margin_days: int = 1
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)

    def __post_init__(self) -> None:
        ZoneInfo(self.time_zone)  # raises for an unknown zone
        if self.lead_business_days < 0:
            raise ValueError("lead_business_days must not be negative")
        if self.safety_margin_days < 1:
            raise ValueError("safety_margin_days must be at least 1")
        if self.cutoff.tzinfo is not None:
            raise ValueError("cutoff is a local wall-clock time without tzinfo")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def local_date(self, moment: datetime) -> date:
        _require_aware(moment)
        return moment.astimezone(self.zone).date()

    def cutoff_moment(self, day: date) -> datetime:
        """Return the cut-off of ``day`` as an aware datetime in UTC.

        On a day when the clocks change, the cut-off's wall time may not exist (spring forward) or
        exist twice (fall back); the earlier of the two readings is taken, so we never believe we
        still have time when we may not.
        """
        zone = self.zone
        readings = [datetime.combine(day, self.cutoff, tzinfo=zone).replace(fold=f).astimezone(UTC) for f in (0, 1)]
        return min(readings)

    def ship_date(self, moment: datetime) -> date:
        """Return the day a kit handed to the carrier at ``moment`` actually leaves."""
        day = self.local_date(moment)
        # Compare in UTC: Python compares two datetimes sharing a tzinfo by wall clock, which is
        # wrong in the repeated hour of a fall-back night.
        if self.calendar.is_business_day(day) and moment.astimezone(UTC) < self.cutoff_moment(day):
            return day
        return self.calendar.next_business_day(day)

    def delivery_for_ship_date(self, ship_date: date) -> date:
        return self.calendar.add_business_days(ship_date, self.lead_business_days)

    def expected_delivery(self, shipped_at: datetime) -> date:
        """Return the delivery date of a kit handed to the carrier at ``shipped_at``."""
        return self.delivery_for_ship_date(self.ship_date(shipped_at))

    def required_delivery(self, need_by: date) -> date:
        """Return the last acceptable delivery date for a kit needed on ``need_by``."""
        return need_by - timedelta(days=self.safety_margin_days)

    def latest_ship_date(self, required_delivery: date) -> date | None:
        """Return the latest business day whose shipment arrives on or before ``required_delivery``."""
        # Delivery dates are business days, so the latest useful one is the last business day
        # on or before the required date; walk back from there.
        try:
            day = self.calendar.previous_business_day(required_delivery, inclusive=True)
        except ValueError:
            return None
        for _ in range(MAX_SEARCH_DAYS):
            if self.calendar.is_business_day(day) and self.delivery_for_ship_date(day) <= required_delivery:
                return day
            day -= timedelta(days=1)
        return None

    def plan(self, *, need_by: date, now: datetime) -> ShipPlan:
        """Plan the shipment of a kit needed at the clinic on ``need_by``, as seen at ``now``."""
        required = self.required_delivery(need_by)
        ship_by = self.latest_ship_date(required)
        earliest = self.ship_date(now)
        if ship_by is not None and ship_by >= earliest:
            return ShipPlan(
                required_delivery=required,
                ship_by=ship_by,
                ship_by_deadline=self.cutoff_moment(ship_by),
                earliest_ship_date=earliest,
                expected_delivery=self.delivery_for_ship_date(ship_by),
                feasible=True,
            )
        return ShipPlan(
            required_delivery=required,
            ship_by=ship_by,
            ship_by_deadline=self.cutoff_moment(ship_by) if ship_by else None,
            earliest_ship_date=earliest,
            expected_delivery=self.delivery_for_ship_date(earliest),
            feasible=False,
        )


def _require_aware(moment: datetime) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("datetimes must be timezone-aware")
