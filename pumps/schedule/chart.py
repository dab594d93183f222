"""Geometry of "the clinic's picture": projected reservoir volume over time. Pure: no ORM, no Django.

``volume_chart(schedule, ...)`` turns a ``pumps.schedule.schedule.Schedule`` into plain numbers and
labels (pixel coordinates) that a template draws as inline SVG. Pixel coordinates are floats:
they only place ink on the screen; every date and volume shown as text comes from the Decimal
schedule itself.

Each marker has a colour AND a line style AND a text label, so the risk reads without colour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from .projection import Projection
from .schedule import CRITICAL, Schedule

__all__ = ["Chart", "Marker", "Zone", "volume_chart"]

WIDTH, HEIGHT = 960, 470
LEFT, RIGHT, TOP, BOTTOM = 64, 24, 60, 90
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
LABEL_ROWS = 6  # three rows of marker labels above the plot, three below the axis

# Colours chosen for contrast on white (WCAG AA for the text colours).
RED, DARK_RED, AMBER, BLUE = "#b3261e", "#7a1712", "#9a5b00", "#1d4ed8"
GREEN, PURPLE, GREY = "#1b6e3a", "#6b21a8", "#555"


@dataclass
class Marker:
    key: str
    label: str
    day: date
    x: float
    colour: str
    dash: str
    row: int = 0  # label row, so that labels of nearby markers do not overlap
    off_chart: bool = False

    @property
    def label_x(self) -> float:
        """The label's centre, kept inside the picture."""
        half = 3.7 * len(self.label)
        return min(max(self.x, half + 4), WIDTH - half - 4)

    @property
    def label_y(self) -> float:
        if self.row < 3:
            return TOP - 44 + 14 * self.row
        return HEIGHT - BOTTOM + 36 + 14 * (self.row - 3)


@dataclass
class Zone:
    """A shaded band: from the refill due date (amber, "refill window") and from the alarm (red)."""

    x: float
    w: float
    fill: str
    text: str
    label: str


@dataclass
class Chart:
    width: int
    height: int
    plot_left: int
    plot_right: int
    plot_top: int
    plot_bottom: int
    start: date
    end: date
    reservoir_ml: Decimal
    alarm_volume_ml: Decimal
    alarm_y: float
    volume_path: str
    today_x: float | None
    x_ticks: list[tuple[float, str]] = field(default_factory=list)
    y_ticks: list[tuple[float, str]] = field(default_factory=list)
    markers: list[Marker] = field(default_factory=list)
    zones: list[Zone] = field(default_factory=list)
    critical: bool = False
    summary: str = ""

    @property
    def plot_height(self) -> int:
        return self.plot_bottom - self.plot_top


def _local(moment: datetime, zone: ZoneInfo) -> datetime:
    return moment.astimezone(zone).replace(tzinfo=None)


@dataclass(frozen=True)
class _Frame:
    """The plot's axes: clinic-local days from ``start`` to ``end`` across, 0 mL to the reservoir up."""

    start: date
    end: date
    zone: ZoneInfo
    reservoir_ml: Decimal

    @property
    def span_days(self) -> int:
        return (self.end - self.start).days

    @property
    def half_day(self) -> float:
        return PLOT_W / self.span_days / 2

    def x_of(self, moment: datetime | date) -> float:
        if isinstance(moment, datetime):
            days = (_local(moment, self.zone) - datetime.combine(self.start, datetime.min.time())) / timedelta(days=1)
        else:
            days = (moment - self.start).days + 0.5  # the middle of that day
        return LEFT + PLOT_W * min(max(days, 0), self.span_days) / self.span_days

    def y_of(self, volume: Decimal) -> float:
        return TOP + PLOT_H * (1 - float(volume) / float(self.reservoir_ml))


def _frame(schedule: Schedule, projection: Projection, zone: ZoneInfo, reservoir_ml: Decimal) -> _Frame:
    """From the fill day to soon after the last date that matters."""
    start = _local(projection.refill.filled_at, zone).date()
    interesting = [schedule.empty_date, schedule.alarm_date, schedule.appointment_date, schedule.expected_delivery]
    last = max(d for d in interesting if d is not None)
    assert schedule.stability_limit_date is not None  # a dated schedule: it has a projection
    # Keep the picture readable: the range ends soon after the last date that matters. A very
    # slow pump's empty date may lie years out; the 180-day limit governs then. Dates beyond the
    # range are drawn at the right edge and say "(off the chart)".
    last = min(last, schedule.stability_limit_date + timedelta(days=10))
    end = last + timedelta(days=max(5, (last - start).days // 12))
    return _Frame(start=start, end=end, zone=zone, reservoir_ml=reservoir_ml)


def _volume_path(frame: _Frame, projection: Projection) -> str:
    """The SVG path of the projected volume, cut at the right edge."""
    points = [
        (frame.x_of(t), frame.y_of(v)) for t, v in projection.points() if _local(t, frame.zone).date() <= frame.end
    ]
    end_moment = datetime.combine(frame.end, datetime.min.time(), tzinfo=frame.zone)
    if projection.empty_at > end_moment:
        points.append((frame.x_of(end_moment), frame.y_of(projection.volume_at(end_moment))))
    else:
        points.append((LEFT + PLOT_W, frame.y_of(Decimal(0))))
    return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(points))


def _x_ticks(frame: _Frame) -> list[tuple[float, str]]:
    span_days = frame.span_days
    step = 7 if span_days <= 120 else 14 if span_days <= 240 else 30
    ticks = []
    tick = frame.start
    while tick <= frame.end:
        ticks.append((frame.x_of(tick) - PLOT_W / span_days / 2, f"{tick:%b %d}"))
        tick += timedelta(days=step)
    return ticks


def _y_ticks(frame: _Frame) -> list[tuple[float, str]]:
    y_step = 5 if frame.reservoir_ml <= 20 else 10
    return [(frame.y_of(Decimal(v)), f"{v} mL") for v in range(0, int(frame.reservoir_ml) + 1, y_step)]


def _markers(schedule: Schedule, frame: _Frame) -> list[Marker]:
    """A marker per date (alarm, empty, 180-day limit, appointment, kit delivery and ship-by), unstaggered."""
    late_appointment = "appointment_after_alarm" in schedule.warning_codes
    kit_late = schedule.kit_feasible is False
    markers = []

    def add(key: str, label: str, day: date | None, colour: str, dash: str) -> None:
        if day is None:
            return
        off = day > frame.end
        markers.append(
            Marker(
                key,
                label + (" (off the chart)" if off else ""),
                day,
                frame.x_of(min(day, frame.end)),
                colour,
                dash,
                off_chart=off,
            )
        )

    add("alarm", f"Alarm {schedule.alarm_date:%b %d}", schedule.alarm_date, RED, "6 3")
    add("empty", f"Empty {schedule.empty_date:%b %d}", schedule.empty_date, DARK_RED, "2 2")
    add(
        "stability",
        f"180-day limit {schedule.stability_limit_date:%b %d}",
        schedule.stability_limit_date,
        PURPLE,
        "10 4 2 4",
    )
    if schedule.appointment_date:
        add(
            "appointment",
            f"{'LATE ' if late_appointment else ''}Appointment {schedule.appointment_date:%b %d}",
            schedule.appointment_date,
            RED if late_appointment else BLUE,
            "",
        )
    add(
        "delivery",
        f"{'LATE ' if kit_late else ''}Kit arrives {schedule.expected_delivery:%b %d}",
        schedule.expected_delivery,
        RED if kit_late else GREEN,
        "4 4",
    )
    add("ship_by", f"Kit ships by {schedule.ship_by:%b %d}" if schedule.ship_by else "", schedule.ship_by, GREY, "1 3")
    return markers


def _stagger(markers: list[Marker]) -> list[Marker]:
    """Give each label a row where it does not collide; return the markers from left to right.

    Sorted by x, each goes on the first row where it does not collide (the row whose last label
    ends furthest left if none is free).
    """
    rows: list[float] = [-1e9] * LABEL_ROWS
    for marker in sorted(markers, key=lambda m: m.x):
        width = 7.4 * len(marker.label)
        centre = marker.label_x
        free = [row for row in range(LABEL_ROWS) if centre - width / 2 > rows[row] + 8]
        marker.row = free[0] if free else min(range(LABEL_ROWS), key=lambda r: rows[r])
        rows[marker.row] = centre + width / 2
    return sorted(markers, key=lambda m: m.x)


def _zones(schedule: Schedule, frame: _Frame) -> list[Zone]:
    """The amber refill window from the due date to the alarm, and the red band from the alarm on."""
    zones = []
    # A dated schedule (it has a projection): these dates are set.
    assert schedule.alarm_date is not None and schedule.refill_due is not None
    risk_start = frame.x_of(schedule.alarm_date) - frame.half_day if schedule.alarm_date <= frame.end else LEFT + PLOT_W
    if schedule.refill_due <= frame.end:
        due_start = frame.x_of(schedule.refill_due) - frame.half_day
        width = max(risk_start - due_start, 0)
        zones.append(Zone(due_start, width, "#fff3d6", AMBER, "Refill window" if width > 100 else ""))
    if schedule.alarm_date <= frame.end:
        width = LEFT + PLOT_W - risk_start
        zones.append(Zone(risk_start, width, "#fbe3e1", RED, "Below alarm: overdue" if width > 150 else ""))
    return zones


def _summary(schedule: Schedule) -> str:
    if schedule.has_critical_warning:
        return "At risk: " + "; ".join(w.message for w in schedule.warnings if w.severity == CRITICAL)
    return (
        f"On track: the kit ships by {schedule.ship_by} and arrives {schedule.expected_delivery}; "
        f"refill due {schedule.refill_due}; alarm {schedule.alarm_date}; empty {schedule.empty_date}."
    )


def volume_chart(
    schedule: Schedule, *, reservoir_ml: Decimal, alarm_volume_ml: Decimal, time_zone: str, today: date | None = None
) -> Chart | None:
    """Lay out the volume chart; None if the schedule is incomplete (nothing to draw)."""
    projection = schedule.projection
    if projection is None:
        return None
    frame = _frame(schedule, projection, ZoneInfo(time_zone), reservoir_ml)
    markers = _markers(schedule, frame)
    return Chart(
        width=WIDTH,
        height=HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
        plot_top=TOP,
        plot_bottom=HEIGHT - BOTTOM,
        start=frame.start,
        end=frame.end,
        reservoir_ml=reservoir_ml,
        alarm_volume_ml=alarm_volume_ml,
        alarm_y=frame.y_of(alarm_volume_ml),
        volume_path=_volume_path(frame, projection),
        today_x=frame.x_of(today) if today and frame.start <= today <= frame.end else None,
        x_ticks=_x_ticks(frame),
        y_ticks=_y_ticks(frame),
        markers=_stagger(markers),
        zones=_zones(schedule, frame),
        critical=schedule.has_critical_warning,
        summary=_summary(schedule),
    )
