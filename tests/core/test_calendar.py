"""The business calendar and the carrier's rules (core.calendar): pure, no database."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from core.calendar import BusinessCalendar, ShippingPolicy, us_federal_holidays

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def ny(*args):
    return datetime(*args, tzinfo=NY)


def policy(**kwargs):
    kwargs.setdefault("time_zone", "America/New_York")
    return ShippingPolicy(**kwargs)


# --- holidays -----------------------------------------------------------------------------


def test_federal_holidays_2025_are_computed_by_rule():
    assert sorted(us_federal_holidays(2025)) == [
        date(2025, 1, 1),
        date(2025, 1, 20),
        date(2025, 2, 17),
        date(2025, 5, 26),
        date(2025, 6, 19),
        date(2025, 7, 4),
        date(2025, 9, 1),
        date(2025, 10, 13),
        date(2025, 11, 11),
        date(2025, 11, 27),
        date(2025, 12, 25),
    ]


def test_holiday_on_saturday_is_observed_on_friday_and_on_sunday_on_monday():
    assert date(2026, 7, 3) in us_federal_holidays(2026)  # July 4th 2026 is a Saturday
    assert date(2026, 7, 4) not in us_federal_holidays(2026)
    assert date(2023, 1, 2) in us_federal_holidays(2023)  # New Year's Day 2023 is a Sunday
    assert date(2022, 12, 26) in us_federal_holidays(2022)  # Christmas 2022 is a Sunday


def test_new_year_on_saturday_is_observed_on_december_31_of_the_year_before():
    assert date(2021, 12, 31) in us_federal_holidays(2021)
    assert date(2022, 1, 1) not in us_federal_holidays(2022)
    assert len([d for d in us_federal_holidays(2022) if d.month == 1]) == 1  # only MLK day


def test_juneteenth_counts_from_2021_on():
    assert date(2020, 6, 19) not in us_federal_holidays(2020)
    assert date(2021, 6, 18) in us_federal_holidays(2021)  # June 19th 2021 was a Saturday
    assert date(2027, 6, 18) in us_federal_holidays(2027)


def test_floating_holidays_in_a_leap_year():
    assert date(2024, 11, 28) in us_federal_holidays(2024)  # Thanksgiving: 4th Thursday of November
    assert date(2024, 5, 27) in us_federal_holidays(2024)  # Memorial Day: last Monday of May
    assert date(2024, 2, 19) in us_federal_holidays(2024)  # Washington's Birthday: 3rd Monday of February
    assert date(2024, 2, 29) not in us_federal_holidays(2024)


def test_federal_holidays_match_the_rules_for_the_years_the_pharmacy_plans():
    """Every year the refill schedules look at: the ten federal holidays (eleven with Juneteenth from
    2021), each on its rule's date or, for a fixed date on a weekend, its observed weekday."""

    def nth(year, month, weekday, n):
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))

    def observed(day):
        return day + timedelta(days={5: -1, 6: 1}.get(day.weekday(), 0))

    for year in range(2000, 2061):
        last_may = date(year, 5, 31) - timedelta(days=date(year, 5, 31).weekday())
        expected = {
            nth(year, 1, 0, 3),
            nth(year, 2, 0, 3),
            last_may,
            nth(year, 9, 0, 1),
            nth(year, 10, 0, 2),
            nth(year, 11, 3, 4),
        }
        expected |= {observed(date(y, m, d)) for y in (year, year + 1) for m, d in ((1, 1), (7, 4), (11, 11), (12, 25))}
        if year >= 2021:
            expected.add(observed(date(year, 6, 19)))
        assert us_federal_holidays(year) == {d for d in expected if d.year == year}, year


def test_years_without_holiday_data_fail_loudly_instead_of_opening_every_holiday():
    with pytest.raises(ValueError, match="2101"):
        us_federal_holidays(2101)
    with pytest.raises(ValueError):
        BusinessCalendar().is_business_day(date(2101, 7, 4))


@pytest.mark.parametrize("year", range(2020, 2041))
def test_every_year_has_its_holidays_on_weekdays(year):
    holidays = us_federal_holidays(year)
    assert len(holidays) in (10, 11, 12)  # 11 usually; 10 or 12 when New Year's moves across years
    assert all(d.weekday() < 5 and d.year == year for d in holidays)


def test_calendar_can_add_and_remove_holidays():
    cal = BusinessCalendar(extra_holidays={date(2025, 3, 12)}, removed_holidays={date(2025, 10, 13)})
    assert not cal.is_business_day(date(2025, 3, 12))
    assert cal.is_business_day(date(2025, 10, 13))  # Columbus Day opened
    assert not cal.is_business_day(date(2025, 11, 27))


def test_calendar_with_a_custom_rule_and_weekend():
    cal = BusinessCalendar(weekend={4, 5}, holiday_rule=lambda year: {date(year, 3, 1)})
    assert cal.is_business_day(date(2025, 3, 2))  # Sunday works
    assert not cal.is_business_day(date(2025, 3, 7))  # Friday closed
    assert not cal.is_business_day(date(2026, 3, 1))


def test_add_business_days_skips_weekends_and_holidays():
    cal = BusinessCalendar()
    assert cal.add_business_days(date(2025, 3, 7), 2) == date(2025, 3, 11)  # Fri -> Tue
    assert cal.add_business_days(date(2025, 8, 29), 1) == date(2025, 9, 2)  # over Labor Day weekend
    assert cal.add_business_days(date(2025, 3, 7), 0) == date(2025, 3, 7)
    with pytest.raises(ValueError):
        cal.add_business_days(date(2025, 3, 7), -1)


def test_a_calendar_without_business_days_fails_loudly():
    cal = BusinessCalendar(weekend=set(range(7)))
    with pytest.raises(ValueError):
        cal.next_business_day(date(2025, 1, 1))
    assert policy(calendar=cal).latest_ship_date(date(2025, 6, 1)) is None


# --- cut-off and expected delivery -----------------------------------------------------


def test_parcel_handed_over_before_cutoff_leaves_the_same_day():
    p = policy(cutoff=time(15, 0), lead_business_days=2)
    assert p.ship_date(ny(2025, 3, 5, 14, 59)) == date(2025, 3, 5)
    assert p.expected_delivery(ny(2025, 3, 5, 14, 59)) == date(2025, 3, 7)


def test_parcel_handed_over_at_or_after_cutoff_leaves_the_next_business_day():
    p = policy(cutoff=time(15, 0), lead_business_days=2)
    assert p.ship_date(ny(2025, 3, 5, 15, 0)) == date(2025, 3, 6)
    assert p.ship_date(ny(2025, 3, 7, 16, 0)) == date(2025, 3, 10)  # Friday after cut-off -> Monday
    assert p.expected_delivery(ny(2025, 3, 7, 16, 0)) == date(2025, 3, 12)


def test_cutoff_is_read_in_the_pharmacy_time_zone_not_utc():
    p = policy(cutoff=time(15, 0))
    # 19:30 UTC is 14:30 in New York in March (EST until the 9th): before the cut-off.
    assert p.ship_date(datetime(2025, 3, 5, 19, 30, tzinfo=UTC)) == date(2025, 3, 5)
    # 19:30 UTC in July is 15:30 EDT: after it.
    assert p.ship_date(datetime(2025, 7, 9, 19, 30, tzinfo=UTC)) == date(2025, 7, 10)
    # 02:00 UTC on the 6th is still the 5th in New York, evening: next day.
    assert p.ship_date(datetime(2025, 3, 6, 2, 0, tzinfo=UTC)) == date(2025, 3, 6)


def test_weekend_and_holiday_parcels_leave_the_next_business_day():
    p = policy()
    assert p.ship_date(ny(2025, 3, 8, 9, 0)) == date(2025, 3, 10)  # Saturday
    assert p.ship_date(ny(2025, 12, 25, 9, 0)) == date(2025, 12, 26)  # Christmas
    assert p.ship_date(ny(2025, 11, 27, 9, 0)) == date(2025, 11, 28)  # Thanksgiving


def test_cutoff_on_dst_days_uses_the_local_wall_clock():
    p = policy(cutoff=time(15, 0))
    # 2025-03-10 (Monday after spring forward): 15:00 EDT is 19:00 UTC.
    assert p.cutoff_moment(date(2025, 3, 10)).astimezone(UTC) == datetime(2025, 3, 10, 19, 0, tzinfo=UTC)
    assert p.ship_date(datetime(2025, 3, 10, 18, 59, tzinfo=UTC)) == date(2025, 3, 10)
    assert p.ship_date(datetime(2025, 3, 10, 19, 0, tzinfo=UTC)) == date(2025, 3, 11)
    # 2025-11-03 (Monday after fall back): 15:00 EST is 20:00 UTC.
    assert p.cutoff_moment(date(2025, 11, 3)).astimezone(UTC) == datetime(2025, 11, 3, 20, 0, tzinfo=UTC)


def test_cutoff_in_a_missing_or_repeated_hour_takes_the_earlier_reading():
    p = policy(cutoff=time(2, 30), calendar=BusinessCalendar(weekend=set()))
    # 02:30 does not exist on 2025-03-09 in New York; the earlier reading is 06:30 UTC (01:30 EST).
    assert p.cutoff_moment(date(2025, 3, 9)).astimezone(UTC) == datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    p = policy(cutoff=time(1, 30), calendar=BusinessCalendar(weekend=set()))
    # 01:30 happens twice on 2025-11-02; the first time is 05:30 UTC (EDT).
    assert p.cutoff_moment(date(2025, 11, 2)).astimezone(UTC) == datetime(2025, 11, 2, 5, 30, tzinfo=UTC)
    assert p.ship_date(datetime(2025, 11, 2, 6, 0, tzinfo=UTC)) == date(2025, 11, 3)  # 01:00 EST, second pass
    # The same moment given as a New York wall time with fold=1 must not compare as "01:00 < 01:30".
    assert p.ship_date(datetime(2025, 11, 2, 1, 0, fold=1, tzinfo=NY)) == date(2025, 11, 3)
    assert p.ship_date(datetime(2025, 11, 2, 1, 0, fold=0, tzinfo=NY)) == date(2025, 11, 2)


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        policy().ship_date(datetime(2025, 3, 5, 12, 0))


def test_policy_refuses_a_margin_below_one_day_and_unknown_zones():
    with pytest.raises(ValueError):
        policy(safety_margin_days=0)
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError or ValueError
        ShippingPolicy(time_zone="Mars/Olympus")


# --- ship-by dates ------------------------------------------------------------------------


def test_ship_by_is_the_latest_business_day_that_arrives_in_time():
    p = policy(lead_business_days=2)
    # Needed Wed 2025-03-12, margin 1 -> delivered by Tue 11th -> ship Fri 7th.
    assert p.latest_ship_date(p.required_delivery(date(2025, 3, 12))) == date(2025, 3, 7)
    # Needed Mon 17th -> delivered by Sun 16th, i.e. Fri 14th -> ship Wed 12th.
    assert p.latest_ship_date(p.required_delivery(date(2025, 3, 17))) == date(2025, 3, 12)


def test_ship_by_with_lead_time_over_a_holiday_weekend():
    p = policy(lead_business_days=2)
    # Needed Wed 2025-09-03 -> by Tue 2nd. Labor Day Mon 1st: Thu 28 Aug + 2 = Tue 2 Sep.
    assert p.latest_ship_date(date(2025, 9, 2)) == date(2025, 8, 28)
    # Thanksgiving week: by Mon 2025-12-01 -> Wed 26 Nov + 2 (Thu closed, Fri) = Mon 1 Dec.
    assert p.latest_ship_date(date(2025, 12, 1)) == date(2025, 11, 26)


def test_ship_by_over_the_year_end_holidays():
    p = policy(lead_business_days=2)
    # Needed Fri 2026-01-02 -> by Thu 1 Jan (holiday) -> Wed 31 Dec -> ship Mon 29 Dec.
    assert p.latest_ship_date(p.required_delivery(date(2026, 1, 2))) == date(2025, 12, 29)
    # 2021/2022: New Year observed Fri 31 Dec 2021. Needed Tue 2022-01-04 -> by Mon 3rd -> ship Wed 29 Dec.
    assert p.latest_ship_date(date(2022, 1, 3)) == date(2021, 12, 29)


def test_plan_is_feasible_until_the_cutoff_of_the_ship_by_day():
    p = policy(lead_business_days=2, cutoff=time(15, 0))
    need_by = date(2025, 3, 12)
    before = p.plan(need_by=need_by, now=ny(2025, 3, 7, 14, 0))
    assert before.feasible and before.ship_by == date(2025, 3, 7)
    assert before.expected_delivery == date(2025, 3, 11)
    assert before.ship_by_deadline == ny(2025, 3, 7, 15, 0)
    after = p.plan(need_by=need_by, now=ny(2025, 3, 7, 15, 0))
    assert not after.feasible
    assert after.ship_by == date(2025, 3, 7)
    assert after.expected_delivery == date(2025, 3, 12)  # leaves Monday, arrives Wednesday: too late


def test_plan_for_a_date_already_past_is_not_feasible():
    p = policy()
    plan = p.plan(need_by=date(2025, 3, 1), now=ny(2025, 3, 5, 9, 0))
    assert not plan.feasible
    assert plan.expected_delivery == date(2025, 3, 7)


def test_every_shipment_on_the_ship_by_date_arrives_in_time_across_several_years():
    for lead in (0, 1, 2, 3, 5):
        p = policy(lead_business_days=lead, safety_margin_days=1 + lead % 2)
        day = date(2023, 12, 1)
        while day < date(2027, 2, 1):
            required = p.required_delivery(day)
            ship = p.latest_ship_date(required)
            assert p.calendar.is_business_day(ship)
            assert p.delivery_for_ship_date(ship) <= required < day
            # ...and it is the latest such day: the next business day would be late.
            later = p.calendar.next_business_day(ship)
            assert p.delivery_for_ship_date(later) > required
            day += timedelta(days=1)
