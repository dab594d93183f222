"""The volume chart's geometry (pumps.schedule.chart): pure, no database. Pins the picture of the seed
example, on time and with a late appointment, and the cases with nothing to draw or dates off the chart."""

from datetime import date, datetime, time, timedelta
from decimal import Decimal as D
from zoneinfo import ZoneInfo

from core.calendar import ShippingPolicy
from pumps.schedule.chart import volume_chart
from pumps.schedule.projection import Program, PumpSpec, Refill
from pumps.schedule.schedule import compute_schedule

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")
SHIPPING = ShippingPolicy(time_zone="America/New_York", cutoff=time(15, 0), lead_business_days=2, safety_margin_days=1)
FILL = datetime(2025, 1, 6, 10, 0, tzinfo=NY).astimezone(UTC)


def ny(*args):
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def seed_schedule(*, appointment_at, refill=True):
    return compute_schedule(
        pump=PumpSpec(D("20"), D("2")),
        refill=Refill(FILL, D("20"), D("2000")) if refill else None,
        programs=[Program(FILL, D("500"), D("2000"))],
        appointment_at=appointment_at,
        buffer_days=7,
        clinic_time_zone="America/New_York",
        shipping=SHIPPING,
        now=FILL + timedelta(days=20),
    )


def chart_of(schedule, today=date(2025, 1, 26)):
    return volume_chart(
        schedule, reservoir_ml=D("20"), alarm_volume_ml=D("2"), time_zone="America/New_York", today=today
    )


def markers(chart):
    return [(m.key, m.label, m.row, round(m.x, 3), m.off_chart) for m in chart.markers]


def test_the_seed_example_on_time():
    chart = chart_of(seed_schedule(appointment_at=ny(2025, 3, 12, 9, 0)))

    assert (chart.start, chart.end) == (date(2025, 1, 6), date(2025, 4, 2))
    assert chart.volume_path == "M68.2,60.0 L798.7,348.0 L879.8,380.0 L936.0,380.0"
    assert chart.alarm_y == 348.0 and round(chart.today_x, 3) == 271.860
    assert markers(chart) == [
        ("ship_by", "Kit ships by Mar 07", 0, 677.442, False),
        ("delivery", "Kit arrives Mar 11", 1, 718.0, False),
        ("appointment", "Appointment Mar 12", 2, 728.14, False),
        ("alarm", "Alarm Mar 19", 3, 799.116, False),
        ("empty", "Empty Mar 27", 0, 880.233, False),
        ("stability", "180-day limit Jul 05 (off the chart)", 4, 936.0, True),
    ]
    assert [(round(z.x, 3), round(z.w, 3), z.label) for z in chart.zones] == [
        (723.07, 70.977, ""),
        (794.047, 141.953, ""),
    ]
    assert len(chart.x_ticks) == 13 and chart.x_ticks[:2] == [(64.0, "Jan 06"), (134.9767441860465, "Jan 13")]
    assert chart.y_ticks == [(380.0, "0 mL"), (300.0, "5 mL"), (220.0, "10 mL"), (140.0, "15 mL"), (60.0, "20 mL")]
    assert not chart.critical
    assert chart.summary == (
        "On track: the kit ships by 2025-03-07 and arrives 2025-03-11; refill due 2025-03-12; "
        "alarm 2025-03-19; empty 2025-03-27."
    )


def test_a_late_appointment_is_drawn_red_and_labelled_late_and_the_summary_says_why():
    chart = chart_of(seed_schedule(appointment_at=ny(2025, 3, 25, 9, 0)))

    assert ("appointment", "LATE Appointment Mar 25", 3, 859.953, False) in markers(chart)
    assert next(m for m in chart.markers if m.key == "appointment").colour == "#b3261e"
    assert chart.critical
    assert chart.summary == "At risk: The appointment (2025-03-25) is on or after the alarm date (2025-03-19)."


def test_today_outside_the_range_is_not_drawn_and_an_incomplete_schedule_has_no_chart():
    assert chart_of(seed_schedule(appointment_at=None), today=date(2024, 12, 1)).today_x is None
    assert chart_of(seed_schedule(appointment_at=None, refill=False)) is None
