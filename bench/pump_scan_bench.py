"""Benchmark the daily refill-kit scan over 100,000 pumps: the due-pump selector and the recompute.

What it does, all on loopback, and it stops by itself:
1. creates a PostgreSQL database (``bench_pump_scan_<pid>`` on the server of DATABASE_URL, or
   BENCH_DATABASE_URL) and creates the tables (``migrate --run-syncdb``, see ``_harness.migrate``);
2. bulk-creates 50 clinics, ``--pumps`` patients and pumps, one program and one refill each, in a
   steady state: each pump was refilled a random number of days ago within its cycle, and its
   stored schedule (ship-by date and the rest) comes from the pure engine (``pumps.schedule.schedule``);
3. ANALYZEs, then times ``pumps.selectors.pumps_due_for_kit(ship_by_on_or_before=today)``
   (the daily scan; median of several runs, with the number of queries and EXPLAIN ANALYZE),
   the same query with index scans disabled (what the cost would be without the partial index),
   and ``pumps.services.schedules.pump_schedules_refresh_due`` (recompute and store the due pumps);
4. writes bench/results/pump_scan.md and prints it; drops the database (also on Ctrl-C/SIGTERM).

Run: ``make bench`` (all benchmarks) or
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/pump_scan_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import _harness as h  # noqa: E402

RESULTS = HERE / "results" / "pump_scan.md"
CLINICS = 50
BATCH = 5000


def build(n_pumps: int, *, today: date, seed: int) -> dict:
    """Bulk-create clinics, patients, pumps (with stored schedules), programs and refills."""
    from django.db import connection

    from core.shipping import shipping_policy
    from pumps.models import Pump, PumpProgram, PumpRefill
    from pumps.schedule.projection import Program, PumpSpec, Refill
    from pumps.schedule.schedule import compute_schedule
    from rx.models import Clinic, Patient

    rng = random.Random(seed)
    policy = shipping_policy()
    zone = ZoneInfo("America/New_York")
    now = datetime.combine(today, datetime.min.time(), tzinfo=zone).replace(hour=6)
    clinics = Clinic.objects.bulk_create(
        [Clinic(name=f"Bench clinic {i}", refill_buffer_days=rng.randint(3, 10)) for i in range(CLINICS)]
    )
    patients = []
    for i in range(n_pumps):
        patients.append(
            Patient(
                clinic=clinics[i % CLINICS],
                first_name=f"P{i}",
                last_name="Bench",
                date_of_birth=date(1970, 1, 1) + timedelta(days=i % 15000),
            )
        )
    Patient.objects.bulk_create(patients, batch_size=BATCH)

    cache: dict = {}
    pumps, programs, refills = [], [], []
    for i, patient in enumerate(patients):
        clinic = clinics[i % CLINICS]
        reservoir = Decimal(rng.choice([20, 40]))
        dose = Decimal(rng.choice(range(100, 901, 50)))
        conc = Decimal(2000)
        days_to_alarm = int((reservoir - 2) * conc / dose)
        cycle = max(7, min(days_to_alarm, 180) - clinic.refill_buffer_days)
        offset = rng.randrange(cycle)  # steady state: refilled when due, so anywhere within the cycle
        fill = now.replace(hour=10) - timedelta(days=offset)
        key = (offset, reservoir, dose, clinic.refill_buffer_days)
        if key not in cache:
            cache[key] = compute_schedule(
                pump=PumpSpec(reservoir, Decimal(2)),
                refill=Refill(fill, reservoir, conc),
                programs=[Program(fill, dose, conc)],
                appointment_at=None,
                buffer_days=clinic.refill_buffer_days,
                clinic_time_zone=clinic.time_zone,
                shipping=policy,
                now=now,
            )
        s = cache[key]
        model = "8637-20" if reservoir == 20 else "8637-40"
        pump = Pump(
            patient=patient,
            manufacturer="medtronic",
            model=model,
            serial_number=f"B{i:07d}",
            reservoir_volume_ml=reservoir,
            alarm_volume_ml=Decimal(2),
            implanted_on=date(2022, 1, 1),
        )
        # The stored fields exactly as the services store them (current_refill is set after the refills exist).
        pump.store_schedule(s, current_refill_id=None, computed_at=now)
        pumps.append(pump)
        programs.append((fill, dose, conc))
        refills.append((fill, reservoir, conc))
    Pump.objects.bulk_create(pumps, batch_size=BATCH)
    PumpProgram.objects.bulk_create(
        [
            PumpProgram(pump=p, effective_at=f, daily_dose_mcg=d, concentration_mcg_per_ml=c)
            for p, (f, d, c) in zip(pumps, programs, strict=True)
        ],
        batch_size=BATCH,
    )
    PumpRefill.objects.bulk_create(
        [
            PumpRefill(pump=p, filled_at=f, volume_filled_ml=v, concentration_mcg_per_ml=c)
            for p, (f, v, c) in zip(pumps, refills, strict=True)
        ],
        batch_size=BATCH,
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE rx_pump SET current_refill_id = r.id FROM rx_pumprefill r WHERE r.pump_id = rx_pump.id")
        cursor.execute("ANALYZE")
    return {"distinct_schedules": len(cache), "now": now}


def timed(fn, runs: int):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    times, result, queries = [], None, 0
    for _ in range(runs):
        with CaptureQueriesContext(connection) as ctx:
            started = time.perf_counter()
            result = fn()
            times.append(time.perf_counter() - started)
        queries = len(ctx)
    return result, statistics.median(times) * 1000, min(times) * 1000, queries


def explain(queryset, *, analyze: bool = True, settings_sql: tuple[str, ...] = ()) -> str:
    from django.db import connection, transaction

    sql, params = queryset.query.sql_with_params()
    with transaction.atomic(), connection.cursor() as cursor:
        for statement in settings_sql:
            cursor.execute(statement)
        cursor.execute(("EXPLAIN (ANALYZE, BUFFERS) " if analyze else "EXPLAIN ") + sql, params)
        return "\n".join(row[0] for row in cursor.fetchall())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pumps", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=7, help="timed runs of the scan (median reported)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    args = parser.parse_args()

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base_url:
        print("Set DATABASE_URL (PostgreSQL) or run `make bench`.", file=sys.stderr)
        return 2
    h.install_signal_handlers()
    # One database per run: two runs at once (two engineers, `make bench`) must not drop each other's.
    db = h.BenchDatabase(base_url, f"bench_pump_scan_{os.getpid()}")
    started = time.perf_counter()
    try:
        db.create()
        env = {**os.environ, "DATABASE_URL": db.url, "PHARMACY_ENV": "test", "LOG_LEVEL": "WARNING"}
        h.migrate(env)
        os.environ.update(
            {
                "DATABASE_URL": db.url,
                "PHARMACY_ENV": "test",
                "LOG_LEVEL": "WARNING",
                "DJANGO_SETTINGS_MODULE": "pharmacy.settings",
            }
        )
        import django

        django.setup()
        from django.conf import settings
        from django.db import connection

        from pumps.models import Pump
        from pumps.selectors import pumps_due_for_kit
        from pumps.services.schedules import pump_schedules_refresh_due

        settings.DEBUG = False
        today = datetime.now(ZoneInfo(settings.PHARMACY_TIME_ZONE)).date()
        t0 = time.perf_counter()
        info = build(args.pumps, today=today, seed=args.seed)
        build_s = time.perf_counter() - t0
        total = Pump.objects.count()

        def scan():
            return [
                (p.pk, p.patient.clinic_id, p.ship_by, p.current_refill_id)
                for p in pumps_due_for_kit(ship_by_on_or_before=today)
            ]

        due, scan_ms, scan_min_ms, scan_queries = timed(scan, args.runs)
        week, week_ms, _, _ = timed(
            lambda: list(pumps_due_for_kit(ship_by_on_or_before=today + timedelta(days=7))), args.runs
        )
        plan = explain(pumps_due_for_kit(ship_by_on_or_before=today))
        no_index_plan = explain(
            pumps_due_for_kit(ship_by_on_or_before=today),
            settings_sql=("SET LOCAL enable_indexscan = off", "SET LOCAL enable_bitmapscan = off"),
        )

        def scan_without_index():
            with connection.cursor() as cursor:
                cursor.execute("SET enable_indexscan = off; SET enable_bitmapscan = off")
            try:
                return scan()
            finally:
                with connection.cursor() as cursor:
                    cursor.execute("RESET enable_indexscan; RESET enable_bitmapscan")

        _, seq_ms, _, _ = timed(scan_without_index, args.runs)
        refresh_now = datetime.now(ZoneInfo("UTC"))
        changed, refresh_ms, _, refresh_queries = timed(
            lambda: pump_schedules_refresh_due(ship_by_on_or_before=today, now=refresh_now), 1
        )
        _, refresh_again_ms, _, _ = timed(
            lambda: pump_schedules_refresh_due(ship_by_on_or_before=today, now=refresh_now), 1
        )
        critical = Pump.objects.filter(active=True, has_critical_warning=True).count()
        connection.close()
        elapsed = time.perf_counter() - started

        rows = [
            (
                "`pumps_due_for_kit(ship_by_on_or_before=today)` (the daily scan, with patient and clinic)",
                f"{len(due):,}",
                f"{scan_ms:.1f}",
                f"{scan_min_ms:.1f}",
                scan_queries,
            ),
            ("the same, due within 7 days", f"{len(week):,}", f"{week_ms:.1f}", "", scan_queries),
            (
                "the daily scan with index scans disabled (sequential scan of all pumps)",
                f"{len(due):,}",
                f"{seq_ms:.1f}",
                "",
                scan_queries,
            ),
            (
                "`pump_schedules_refresh_due(ship_by_on_or_before=today)`: lock, reload history, recompute and "
                "store the due pumps",
                f"{len(due):,} ({len(changed):,} changed)",
                f"{refresh_ms:.0f}",
                "",
                refresh_queries,
            ),
            ("the same again (nothing changed)", f"{len(due):,}", f"{refresh_again_ms:.0f}", "", refresh_queries),
        ]
        table = "\n".join(
            ["| what | rows | median ms | best ms | queries |", "| --- | ---: | ---: | ---: | ---: |"]
            + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        )
        report = f"""# Daily refill-kit scan over {total:,} pumps

Run {h.now_utc()} on {h.machine_summary()}, commit {h.git_commit()}, PostgreSQL
(database `{db.name}`, created and dropped by `bench/pump_scan_bench.py`; whole run {elapsed:.0f} s).

Data: {total:,} active pumps in {CLINICS} clinics, each with one program and one refill, built with
`bulk_create` ({build_s:.0f} s) in a steady state (each pump refilled a random number of days into its
cycle); stored schedules from the pure engine ({info["distinct_schedules"]} distinct schedules). Scan date: {today}
(pharmacy time zone).

{table}

The scan reads only the due pumps through the partial index `pump_active_ship_by_idx`
(`ship_by` WHERE `active` AND `ship_by IS NOT NULL`): its cost grows with the number of due pumps,
not with the {total:,} pumps; patients and clinics are then fetched by primary key (3 queries in
all). The recompute takes a constant number of queries (select for update, the prefetches of
history, one pipelined UPDATE) and its time is the engine's, per due pump.
Wall-clock times include Django building the model instances (pumps, then their patients and
clinics) and are sensitive to other load on the machine; the database work of the scan is the
"Execution Time" of the EXPLAIN ANALYZE below.
After the refresh, {critical:,} pumps carry a critical warning (kits whose ship-by day has passed
at the time of the run: the data is synthetic, nobody shipped them).

## EXPLAIN ANALYZE of the daily scan

```
{plan}
```

## The same query without the index (for comparison)

```
{no_index_plan}
```
"""
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(report)
        print(report)
        return 0
    except h.Stop as exc:
        print(f"Stopped by {exc}", file=sys.stderr)
        return 1
    finally:
        if not args.keep_db:
            try:
                from django.db import connections

                connections.close_all()
            except Exception:  # noqa: BLE001, S110 - Django may not be set up yet
                pass
            db.drop()


if __name__ == "__main__":
    sys.exit(main())
