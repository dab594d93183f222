"""The refill schedule and its warnings (pumps.schedule.schedule): pure, no database."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from core.calendar import ShippingPolicy
from pumps.schedule.projection import Program, PumpSpec, Refill, flow_ml_per_day
from pumps.schedule.schedule import CRITICAL, WARNING, compute_schedule

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
SHIPPING = ShippingPolicy(time_zone="America/New_York", cutoff=time(15, 0), lead_business_days=2, safety_margin_days=1)


def ny(*args):
    """A New York wall-clock moment, in UTC so that adding days below is absolute time."""
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def schedule(
    *,
    fill=None,
    volume="20",
    conc="2000",
    programs=None,
    alarm="2",
    reservoir="20",
    appointment=None,
    buffer=7,
    now=None,
    battery=None,
    tz="America/New_York",
    shipping=SHIPPING,
):
    fill = fill or ny(2025, 1, 6, 10, 0)
    programs = programs if programs is not None else [Program(fill, D("500"), D(conc))]
    return compute_schedule(
        pump=PumpSpec(D(reservoir), D(alarm), battery),
        refill=Refill(fill, D(volume), D(conc)),
        programs=programs,
        appointment_at=appointment,
        buffer_days=buffer,
        clinic_time_zone=tz,
        shipping=shipping,
        now=now or fill,
    )


def codes(s):
    return {w.code: w.severity for w in s.warnings}


# --- the seed example ------------------------------------------------------------------------


def test_seed_example_flow_alarm_on_day_72_and_empty_on_day_80():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill)
    assert s.flow_ml_per_day == D("0.25")
    assert s.alarm_at == fill + timedelta(days=72)
    assert s.empty_at == fill + timedelta(days=80)
    assert s.alarm_date == date(2025, 1, 6) + timedelta(days=72) == date(2025, 3, 19)
    assert s.empty_date == date(2025, 3, 27)
    assert s.stability_limit_date == date(2025, 7, 5)
    assert s.refill_due == date(2025, 3, 12)  # alarm - 7 days buffer
    assert s.current_volume_ml == D("20")


def test_non_terminating_flow_is_rounded_up_and_days_down():
    # 400 mcg/day at 1500 mcg/mL = 0.2666... mL/day; 18 mL / that = 67.5 days exactly in real numbers.
    flow = flow_ml_per_day(D("400"), D("1500"))
    assert Fraction(400, 1500) <= Fraction(flow) < Fraction(400, 1500) + Fraction(1, 10**40)
    fill = ny(2025, 1, 6, 0, 0)
    s = schedule(fill=fill, conc="1500", programs=[Program(fill, D("400"), D("1500"))])
    assert s.alarm_at <= fill + timedelta(days=67, hours=12)
    assert s.alarm_at > fill + timedelta(days=67, hours=11, minutes=59)
    assert s.alarm_date == date(2025, 3, 14)


def test_dose_change_mid_interval_counts_from_the_volume_left_at_the_change():
    fill = ny(2025, 1, 6, 10, 0)
    change = fill + timedelta(days=20)  # 15 mL left
    s = schedule(fill=fill, programs=[Program(fill, D("500"), D("2000")), Program(change, D("1000"), D("2000"))])
    # From the change: 0.5 mL/day, 13 mL to the alarm = 26 days, 15 mL to empty = 30 days.
    assert s.alarm_at == change + timedelta(days=26)
    assert s.empty_at == change + timedelta(days=30)
    assert s.alarm_date == date(2025, 2, 21)  # day 46
    assert s.flow_ml_per_day == D("0.25")  # as seen at the fill
    later = schedule(
        fill=fill,
        programs=[Program(fill, D("500"), D("2000")), Program(change, D("1000"), D("2000"))],
        now=change + timedelta(days=1),
    )
    assert later.flow_ml_per_day == D("0.5")
    assert later.current_volume_ml == D("14.5")


def test_titration_up_then_down():
    fill = ny(2025, 1, 6, 10, 0)
    programs = [
        Program(fill, D("400"), D("2000")),  # 0.2 mL/day
        Program(fill + timedelta(days=10), D("600"), D("2000")),  # 0.3 mL/day; 18 mL left
        Program(fill + timedelta(days=30), D("300"), D("2000")),  # 0.15 mL/day; 12 mL left
    ]
    s = schedule(fill=fill, programs=programs)
    # 10 mL to the alarm at 0.15 -> 66.66.. days after day 30: rounded down (earlier).
    assert s.alarm_at < fill + timedelta(days=30 + 66, hours=16)
    assert s.alarm_at >= fill + timedelta(days=30 + 66, hours=15, minutes=59, seconds=59)
    assert s.empty_at == fill + timedelta(days=110)
    assert [v for _, v in s.projection.points()][:3] == [D("20"), D("18"), D("12")]


def test_dose_change_after_the_alarm_changes_only_the_empty_date():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(
        fill=fill,
        programs=[Program(fill, D("500"), D("2000")), Program(fill + timedelta(days=76), D("250"), D("2000"))],
    )
    assert s.alarm_at == fill + timedelta(days=72)
    assert s.empty_at == fill + timedelta(days=76 + 8)  # 1 mL left at day 76, 0.125 mL/day


def test_programs_before_the_fill_only_the_latest_counts_and_order_does_not_matter():
    fill = ny(2025, 1, 6, 10, 0)
    programs = [
        Program(fill - timedelta(days=3), D("500"), D("2000")),
        Program(fill - timedelta(days=90), D("100"), D("2000")),
    ]
    assert schedule(fill=fill, programs=programs).alarm_at == fill + timedelta(days=72)


def test_program_that_starts_after_the_fill_is_assumed_from_the_fill():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, programs=[Program(fill + timedelta(hours=2), D("500"), D("2000"))])
    assert s.alarm_at == fill + timedelta(days=72)


def test_concentration_change_at_refill():
    fill = ny(2025, 1, 6, 10, 0)
    old = Program(fill - timedelta(days=80), D("500"), D("2000"))
    new = Program(fill, D("500"), D("1000"))  # same dose, half the concentration: twice the flow
    s = schedule(fill=fill, conc="1000", programs=[old, new])
    assert s.flow_ml_per_day == D("0.5")
    assert s.alarm_at == fill + timedelta(days=36)
    assert "concentration_mismatch" not in codes(s)


def test_concentration_not_reprogrammed_at_refill_is_critical():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, conc="1000", programs=[Program(fill - timedelta(days=80), D("500"), D("2000"))])
    assert codes(s)["concentration_mismatch"] == CRITICAL
    assert s.has_critical_warning


# --- 180-day limit and buffer ------------------------------------------------------------


def test_180_day_limit_wins_over_a_slow_flow():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, reservoir="40", volume="40", programs=[Program(fill, D("100"), D("2000"))])
    # 0.05 mL/day: alarm after 760 days; the stability limit governs.
    assert s.alarm_date == date(2027, 2, 5)
    assert s.stability_limit_date == date(2025, 7, 5)
    assert s.refill_due == date(2025, 6, 28)
    assert s.need_by == date(2025, 6, 28)


def test_stability_limit_across_a_leap_day():
    fill = ny(2024, 1, 15, 9, 0)
    s = schedule(fill=fill, programs=[Program(fill, D("50"), D("2000"))])
    assert s.stability_limit_date == date(2024, 7, 13)  # 2024 has 29 February
    fill = ny(2025, 1, 15, 9, 0)
    assert schedule(fill=fill, programs=[Program(fill, D("50"), D("2000"))]).stability_limit_date == date(2025, 7, 14)


def test_alarm_date_across_29_february():
    fill = ny(2024, 2, 1, 10, 0)
    assert schedule(fill=fill).alarm_date == date(2024, 4, 13)  # 72 days incl. 29 Feb
    fill = ny(2023, 2, 1, 10, 0)
    assert schedule(fill=fill).alarm_date == date(2023, 4, 14)


@pytest.mark.parametrize("buffer", [0, 3, 7, 10])
def test_refill_due_is_the_alarm_date_minus_the_clinic_buffer(buffer):
    s = schedule(buffer=buffer)
    assert s.refill_due == date(2025, 3, 19) - timedelta(days=buffer)


def test_negative_buffer_and_overfull_refill_are_refused():
    with pytest.raises(ValueError):
        schedule(buffer=-1)
    with pytest.raises(ValueError):
        schedule(volume="21")
    with pytest.raises(ValueError):
        PumpSpec(D("20"), D("20"))
    with pytest.raises(ValueError):
        Refill(datetime(2025, 1, 1, 10, 0), D("20"), D("2000"))  # naive


# --- DST and local dates -----------------------------------------------------------------


def test_alarm_date_over_a_dst_change_keeps_the_wall_clock_day_count():
    # Filled at 23:30 EST on 1 March; 72 days later in absolute time is 00:30 EDT on 13 May,
    # but on the clinic's wall clock it is day 72 = 12 May: the earlier date is taken.
    fill = ny(2025, 3, 1, 23, 30)
    s = schedule(fill=fill)
    assert s.alarm_at.astimezone(NY).date() == date(2025, 5, 13)
    assert s.alarm_date == date(2025, 5, 12)


def test_alarm_date_over_the_fall_back_change_takes_the_absolute_date_when_earlier():
    fill = ny(2025, 10, 1, 0, 30)  # EDT
    s = schedule(fill=fill)
    # 72 x 24 h later is 23:30 EST on 11 December; the wall-clock count says 12 December.
    assert s.alarm_at.astimezone(NY) == ny(2025, 12, 11, 23, 30)
    assert s.alarm_date == date(2025, 12, 11)


def test_local_dates_are_the_clinic_time_zone_not_utc():
    fill = datetime(2025, 1, 6, 3, 0, tzinfo=UTC)  # 22:00 on the 5th in New York, 19:00 in Los Angeles
    assert schedule(fill=fill, tz="America/New_York").alarm_date == date(2025, 3, 18)
    assert schedule(fill=fill, tz="Asia/Tokyo").alarm_date == date(2025, 3, 19)


def test_ship_by_for_the_appointment_and_expected_delivery():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, appointment=ny(2025, 3, 12, 9, 0))  # Wednesday
    assert s.need_by == date(2025, 3, 12)
    assert s.required_delivery == date(2025, 3, 11)
    assert s.ship_by == date(2025, 3, 7)
    assert s.ship_by_deadline == ny(2025, 3, 7, 15, 0)
    assert s.expected_delivery == date(2025, 3, 11)
    assert s.kit_feasible
    assert not s.has_critical_warning
    assert codes(s) == {}


def test_without_appointment_the_kit_is_timed_for_the_refill_due_date():
    s = schedule()
    assert codes(s) == {"no_appointment": WARNING}
    assert s.need_by == s.refill_due == date(2025, 3, 12)
    assert s.ship_by == date(2025, 3, 7)


def test_appointment_after_alarm_is_critical_and_the_kit_is_timed_for_before_the_alarm():
    s = schedule(appointment=ny(2025, 3, 24, 9, 0))
    assert codes(s)["appointment_after_alarm"] == CRITICAL
    assert "appointment_after_empty" not in codes(s)
    assert s.need_by == date(2025, 3, 18)  # the day before the alarm, not the late appointment
    assert s.expected_delivery <= date(2025, 3, 17)


def test_appointment_on_the_alarm_date_is_critical():
    s = schedule(appointment=ny(2025, 3, 19, 8, 0))  # the alarm sounds at 10:00
    assert codes(s)["appointment_after_alarm"] == CRITICAL


def test_appointment_after_empty_and_after_the_stability_limit_are_critical():
    s = schedule(appointment=ny(2025, 3, 28, 9, 0))
    assert codes(s)["appointment_after_empty"] == CRITICAL
    assert codes(s)["appointment_after_alarm"] == CRITICAL
    fill = ny(2025, 1, 6, 10, 0)
    slow = schedule(fill=fill, programs=[Program(fill, D("50"), D("2000"))], appointment=ny(2025, 7, 6, 9, 0))
    assert codes(slow)["appointment_after_stability_limit"] == CRITICAL
    on_limit = schedule(fill=fill, programs=[Program(fill, D("50"), D("2000"))], appointment=ny(2025, 7, 5, 9, 0))
    assert "appointment_after_stability_limit" not in codes(on_limit)


def test_appointment_inside_the_buffer_is_a_warning():
    s = schedule(appointment=ny(2025, 3, 15, 9, 0))
    assert codes(s) == {"appointment_after_refill_due": WARNING}


def test_kit_that_can_no_longer_arrive_is_critical():
    fill = ny(2025, 1, 6, 10, 0)
    appointment = ny(2025, 3, 12, 9, 0)
    in_time = schedule(fill=fill, appointment=appointment, now=ny(2025, 3, 7, 14, 59))
    assert "kit_cannot_arrive" not in codes(in_time)
    late = schedule(fill=fill, appointment=appointment, now=ny(2025, 3, 7, 15, 1))
    assert codes(late)["kit_cannot_arrive"] == CRITICAL
    assert late.ship_by == date(2025, 3, 7)
    assert late.expected_delivery == date(2025, 3, 12)
    assert not late.kit_feasible


def test_no_business_day_available_is_critical():
    from core.calendar import BusinessCalendar

    closed = ShippingPolicy(time_zone="America/New_York", calendar=BusinessCalendar(weekend={0, 1, 2, 3, 4, 5, 6}))
    with pytest.raises(ValueError):
        # The calendar itself cannot find a day to ship on: the engine refuses rather than guess.
        schedule(shipping=closed)


def test_battery_replacement_before_the_next_refill_is_a_warning():
    assert codes(schedule(battery=date(2025, 3, 1), appointment=ny(2025, 3, 12, 9, 0))) == {
        "battery_before_refill": WARNING
    }
    assert codes(schedule(battery=date(2025, 3, 13), appointment=ny(2025, 3, 12, 9, 0))) == {}
    assert "battery_before_refill" in codes(schedule(battery=date(2025, 3, 12)))  # vs the refill due date


def test_refill_overdue_once_the_alarm_moment_has_passed():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, now=fill + timedelta(days=72))
    assert codes(s)["refill_overdue"] == CRITICAL
    assert codes(schedule(fill=fill, now=fill + timedelta(days=71)))["kit_cannot_arrive"] == CRITICAL


def test_appointment_in_the_past_is_overdue():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, appointment=ny(2025, 3, 3, 9, 0), now=ny(2025, 3, 4, 9, 0))
    assert codes(s)["appointment_overdue"] == CRITICAL


def test_missing_refill_or_program_gives_an_incomplete_critical_schedule():
    s = compute_schedule(
        pump=PumpSpec(D("20"), D("2")),
        refill=None,
        programs=[],
        appointment_at=None,
        buffer_days=7,
        clinic_time_zone="America/New_York",
        shipping=SHIPPING,
        now=ny(2025, 1, 6, 10, 0),
    )
    assert codes(s) == {"schedule_incomplete": CRITICAL}
    assert s.alarm_date is None and s.ship_by is None
    fill = ny(2025, 1, 6, 10, 0)
    s = compute_schedule(
        pump=PumpSpec(D("20"), D("2")),
        refill=Refill(fill, D("20"), D("2000")),
        programs=[],
        appointment_at=None,
        buffer_days=7,
        clinic_time_zone="America/New_York",
        shipping=SHIPPING,
        now=fill,
    )
    assert "program" in s.warnings[0].message


def test_refill_below_the_alarm_volume_alarms_at_once():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, volume="1.5", now=fill)
    assert s.alarm_at == fill
    assert codes(s)["refill_overdue"] == CRITICAL


def test_tiny_flows_are_clamped_to_the_horizon_not_overflowed():
    fill = ny(2025, 1, 6, 10, 0)
    s = schedule(fill=fill, programs=[Program(fill, D("0.001"), D("10000"))])
    assert s.empty_at == fill + timedelta(days=3650)
    assert s.refill_due == s.stability_limit_date - timedelta(days=7)


def test_warnings_are_ordered_critical_first():
    s = schedule(appointment=ny(2025, 3, 28, 9, 0), battery=date(2025, 2, 1))
    severities = [w.severity for w in s.warnings]
    assert severities == sorted(severities, key=lambda x: x != CRITICAL)
    assert all(w.message for w in s.warnings)
