"""A year of refills for hundreds of pumps, simulated with the pure engine (seeded, no database).

For every pump, refill after refill, with random doses, titrations up and down, concentration
changes and appointments (some deliberately too late), every time the schedule is recomputed
(appointment set, each program change) it checks that:
- a kit shipped on its ship-by date, before the cut-off, arrives on or before the required
  delivery date, which is before the appointment and before the alarm date;
- when no ship date can make it any more, the schedule says so (critical), and truly none can;
- every appointment on or after the alarm date is flagged critical, and no other is;
- the alarm moment agrees with an exact (Fraction) re-computation of the volume, never later.
"""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal as D
from fractions import Fraction
from zoneinfo import ZoneInfo

from core.calendar import ShippingPolicy
from pumps.schedule.projection import Program, PumpSpec, Refill
from pumps.schedule.schedule import CRITICAL, compute_schedule

UTC = ZoneInfo("UTC")
ZONES = ["America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "Pacific/Honolulu"]
CONCENTRATIONS = [D("500"), D("1000"), D("2000")]
PUMPS = 300


def exact_volume(refill, programs, moment):
    """The reservoir volume at ``moment``, in exact rational arithmetic (an independent oracle)."""
    ordered = sorted(programs, key=lambda p: p.effective_at)
    in_effect = [p for p in ordered if p.effective_at <= refill.filled_at]
    current = in_effect[-1] if in_effect else ordered[0]
    volume, t = Fraction(refill.volume_ml), refill.filled_at
    for program in [p for p in ordered if p.effective_at > refill.filled_at] + [None]:
        end = moment if program is None else min(moment, program.effective_at)
        if end > t:
            days = Fraction((end - t) // timedelta(microseconds=1), 86_400_000_000)
            volume -= Fraction(current.daily_dose_mcg) / Fraction(current.concentration_mcg_per_ml) * days
            t = end
        if program is None or program.effective_at >= moment:
            break
        current = program
    return max(volume, Fraction(0))


def test_a_year_of_refills_for_300_pumps_keeps_every_kit_on_time_and_flags_every_late_appointment():
    rng = random.Random(20250106)
    policy = ShippingPolicy(
        time_zone="America/New_York", cutoff=time(15, 0), lead_business_days=2, safety_margin_days=1
    )
    stats = {"checks": 0, "feasible": 0, "infeasible": 0, "late_appointments": 0, "titrations": 0, "cycles": 0}

    for _ in range(PUMPS):
        zone = ZoneInfo(rng.choice(ZONES))
        reservoir = rng.choice([D("20"), D("40")])
        alarm = D(rng.choice(["1", "2", "2.5", "3", "4"]))
        buffer_days = rng.randint(3, 10)
        battery = None
        conc = rng.choice(CONCENTRATIONS)
        dose = D(rng.randint(90, 900))
        fill = datetime(2025, 1, 1, 8, tzinfo=zone).astimezone(UTC) + timedelta(minutes=rng.randint(0, 60 * 24 * 60))
        programs = [Program(fill - timedelta(days=30), dose, conc)]
        end = fill + timedelta(days=365)

        while fill < end:
            stats["cycles"] += 1
            if rng.random() < 0.15:  # switch concentration at this refill, keeping the dose
                conc = rng.choice(CONCENTRATIONS)
                programs.append(Program(fill, dose, conc))
            volume = reservoir - D(rng.choice(["0", "0", "0.5", "1"]))
            refill = Refill(fill, volume, conc)
            spec = PumpSpec(reservoir, alarm, battery)

            def compute(
                now, appointment_at, programs=programs, refill=refill, spec=spec, zone=zone, buffer_days=buffer_days
            ):
                return compute_schedule(
                    pump=spec,
                    refill=refill,
                    programs=programs,
                    appointment_at=appointment_at,
                    buffer_days=buffer_days,
                    clinic_time_zone=zone.key,
                    shipping=policy,
                    now=now,
                )

            # The clinic books the appointment a few days after the refill, around the due date;
            # about one in six is booked too late (inside or past the alarm).
            now = fill + timedelta(days=rng.randint(1, 10), hours=rng.randint(0, 23))
            first = compute(now, None)
            offset = rng.randint(-12, -1) if rng.random() > 1 / 6 else rng.randint(0, 12)
            day = max(first.refill_due + timedelta(days=offset), now.astimezone(zone).date() + timedelta(days=1))
            appointment = datetime.combine(day, time(rng.randint(8, 16), rng.choice([0, 30])), tzinfo=zone)
            appointment = appointment.astimezone(UTC)

            # Titrations at random moments before the appointment, up or down 10-40 %.
            events = [now]
            for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
                at = fill + timedelta(minutes=rng.randint(60, max(61, int((appointment - fill).total_seconds() // 60))))
                if at >= appointment or any(p.effective_at == at for p in programs):
                    continue
                factor = D(100 + rng.choice([-1, 1]) * rng.randint(10, 40)) / D(100)
                dose = (dose * factor).quantize(D("1"))
                programs.append(Program(at, dose, conc))
                events.append(at)
                stats["titrations"] += 1

            for moment in sorted(events):
                known = [p for p in programs if p.effective_at <= moment or p.effective_at <= fill]
                s = compute(moment, appointment, programs=known)
                stats["checks"] += 1
                codes = {w.code: w.severity for w in s.warnings}

                # Every appointment on or after the alarm date is flagged critical; no other is.
                if s.appointment_date >= s.alarm_date:
                    stats["late_appointments"] += 1
                    assert codes.get("appointment_after_alarm") == CRITICAL, (s.appointment_date, s.alarm_date)
                    assert s.has_critical_warning
                else:
                    assert "appointment_after_alarm" not in codes

                # The alarm moment is never later than the exact one.
                assert exact_volume(refill, known, s.alarm_at) >= Fraction(alarm)
                if s.alarm_at > fill:
                    assert exact_volume(refill, known, s.alarm_at + timedelta(seconds=1)) < Fraction(alarm)

                if s.kit_feasible:
                    stats["feasible"] += 1
                    ship_moment = s.ship_by_deadline - timedelta(seconds=1)  # the last moment on the ship-by day
                    assert ship_moment >= moment
                    delivered = policy.expected_delivery(ship_moment)
                    assert delivered == s.expected_delivery
                    assert delivered <= s.required_delivery < s.appointment_date
                    assert delivered < s.alarm_date - timedelta(days=1)
                    assert delivered <= s.stability_limit_date
                    assert "kit_cannot_arrive" not in codes
                else:
                    stats["infeasible"] += 1
                    assert codes.get("kit_cannot_arrive") == CRITICAL
                    # Truly none: even shipped at this very moment it would be late.
                    assert policy.expected_delivery(moment) > s.required_delivery

            # The refill happens at the appointment (late or not); the next cycle starts there.
            fill = appointment

    assert stats["cycles"] > PUMPS * 3
    assert stats["checks"] > stats["cycles"]
    assert stats["titrations"] > PUMPS
    assert stats["late_appointments"] > PUMPS // 4
    assert stats["feasible"] > stats["infeasible"] > 0
