"""The reservoir projection (pumps.schedule.projection): flow, piecewise-linear volume, alarm and empty
moments, local event dates. Pure, no database."""

from datetime import date, datetime, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

import pytest

from pumps.schedule.projection import (
    HORIZON_DAYS,
    Program,
    PumpSpec,
    Refill,
    flow_ml_per_day,
    local_event_date,
    project,
)

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def ny(*args):
    """A New York wall-clock moment, in UTC so that adding days below is absolute time."""
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def test_flow_is_dose_over_concentration():
    assert flow_ml_per_day(D("500"), D("2000")) == D("0.25")
    assert flow_ml_per_day(D("100"), D("50")) == D("2")
    with pytest.raises(ValueError):
        flow_ml_per_day(D("0"), D("2000"))
    with pytest.raises(ValueError):
        flow_ml_per_day(D("500"), D("-1"))
    with pytest.raises(TypeError):
        flow_ml_per_day(500.0, D("2000"))


def test_volume_projection_is_linear_between_program_changes():
    fill = ny(2025, 1, 6, 10, 0)
    p = project(
        refill=Refill(fill, D("20"), D("2000")), programs=[Program(fill, D("500"), D("2000"))], alarm_volume_ml=D("2")
    )
    assert p.volume_at(fill + timedelta(days=40)) == D("10")
    assert p.volume_at(fill + timedelta(days=100)) == D("0")
    assert p.volume_at(fill - timedelta(days=1)) == D("20")
    assert [v for _, v in p.points()] == [D("20"), D("2"), D("0")]


# --- dose changes ----------------------------------------------------------------------------


def test_local_event_date_is_the_earlier_reading():
    start = ny(2025, 3, 1, 23, 30)
    assert local_event_date(start=start, moment=start + timedelta(days=10), zone=NY) == date(2025, 3, 11)


# --- kit timing ----------------------------------------------------------------------------


def test_a_projection_needs_a_program():
    with pytest.raises(ValueError):
        project(refill=Refill(ny(2025, 1, 6, 10, 0), D("20"), D("2000")), programs=[], alarm_volume_ml=D("2"))


def test_programs_before_the_fill_give_way_to_the_latest_and_later_ones_start_new_segments():
    fill = ny(2025, 1, 6, 10, 0)
    change = fill + timedelta(days=20)
    p = project(
        refill=Refill(fill, D("20"), D("2000")),
        programs=[
            Program(change, D("1000"), D("2000")),
            Program(fill - timedelta(days=90), D("100"), D("2000")),
            Program(fill - timedelta(days=3), D("500"), D("2000")),
        ],
        alarm_volume_ml=D("2"),
    )
    assert [(s.start, s.end, s.start_volume_ml, s.flow_ml_per_day) for s in p.segments] == [
        (fill, change, D("20"), D("0.25")),
        (change, None, D("15"), D("0.5")),
    ]
    assert p.flow_at(fill + timedelta(days=1)) == D("0.25") and p.flow_at(change) == D("0.5")
    assert (p.alarm_at, p.empty_at) == (change + timedelta(days=26), change + timedelta(days=30))


def test_a_segment_says_none_when_the_volume_is_reached_only_after_it_ends():
    fill = ny(2025, 1, 6, 10, 0)
    p = project(
        refill=Refill(fill, D("20"), D("2000")),
        programs=[Program(fill, D("500"), D("2000")), Program(fill + timedelta(days=10), D("500"), D("2000"))],
        alarm_volume_ml=D("2"),
    )
    assert p.segments[0].moment_volume_reaches(D("2")) is None
    assert p.segments[1].moment_volume_reaches(D("2")) == fill + timedelta(days=72)
    assert p.segments[1].moment_volume_reaches(D("18")) == p.segments[1].start  # already below


def test_tiny_flows_are_clamped_to_the_horizon():
    fill = ny(2025, 1, 6, 10, 0)
    p = project(
        refill=Refill(fill, D("20"), D("2000")), programs=[Program(fill, D("0.001"), D("2000"))], alarm_volume_ml=D("2")
    )
    assert p.empty_at == fill + timedelta(days=HORIZON_DAYS)


def test_naive_moments_and_float_numbers_are_refused():
    with pytest.raises(ValueError):
        Program(datetime(2025, 1, 1, 10, 0), D("500"), D("2000"))
    with pytest.raises(TypeError):
        Refill(ny(2025, 1, 6, 10, 0), 20.0, D("2000"))
    with pytest.raises(ValueError):
        PumpSpec(D("20"), D("0"))
    assert PumpSpec("40", "2.5", date(2030, 1, 1)).reservoir_ml == D("40")
