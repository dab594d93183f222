"""Benchmark the catalogue: the product page (HTML) and the product detail API under concurrent load.

What it does, all on loopback, and it stops by itself:
1. creates a PostgreSQL database (``bench_pharmacy`` on the server of DATABASE_URL, or BENCH_DATABASE_URL),
2. migrates it (``migrate --run-syncdb``: apps with migration files are migrated as usual, tables of
   apps still without any are created, so it is right before and after the lead adds migrations),
   ``collectstatic``, then ``load_seed_catalogue``,
3. starts gunicorn (2 sync workers, 127.0.0.1, a free port) with PHARMACY_ENV=production (DEBUG off),
4. measures each endpoint for ``--seconds`` with ``--clients`` concurrent keep-alive clients (aiohttp),
5. writes bench/results/catalog.md and prints it; stops gunicorn and drops the database.

Run: ``make bench`` (all benchmarks) or
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/catalog_bench.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

PRODUCT_SLUG = "baclofen-10-mg-tablet"
PRODUCT_NDC = "00832102400"
RESULTS = Path(__file__).resolve().parent / "results" / "catalog.md"


def page_ok(body: bytes) -> bool:
    return b"baclofen" in body.lower() and b"</html>" in body.lower()


def api_ok(body: bytes) -> bool:
    try:
        return json.loads(body)["ndc"] == PRODUCT_NDC
    except (ValueError, KeyError, TypeError):
        return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration per endpoint")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument(
        "--conn-max-age",
        default="0,60",
        help="comma-separated CONN_MAX_AGE values, one server run each (default 0,60: the "
        "production default, a connection per request, and persistent connections)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    args = parser.parse_args()
    conn_max_ages = [int(v) for v in args.conn_max_age.split(",") if v.strip()]

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base_url:
        print("Set DATABASE_URL (PostgreSQL) or run `make bench`.", file=sys.stderr)
        return 2
    h.install_signal_handlers()
    database = h.BenchDatabase(base_url, os.environ.get("BENCH_DATABASE_NAME", "bench_pharmacy"))
    server = None
    results: list[h.Result] = []
    log_tail = ""
    load_before = os.getloadavg()
    with h.temp_dir("pharmacy-bench-") as tmp:
        try:
            print(f"Creating database {database.name} ...", flush=True)
            database.create()
            env = h.production_env(database_url=database.url, var_dir=Path(tmp), conn_max_age=conn_max_ages[0])
            print("Migrating, collecting static files, loading the seed catalogue ...", flush=True)
            print(h.migrate(env).strip(), flush=True)
            h.manage(env, "collectstatic", "--noinput")
            seed_output = h.manage(env, "load_seed_catalogue")
            print(seed_output.strip(), flush=True)

            for conn_max_age in conn_max_ages:
                env["CONN_MAX_AGE"] = str(conn_max_age)
                log = Path(tmp) / f"gunicorn-{conn_max_age}.log"
                server = h.Gunicorn(env, workers=args.workers, log_path=log)
                server.wait_ready()
                print(
                    f"gunicorn ({args.workers} workers, CONN_MAX_AGE={conn_max_age}) on {server.base}; "
                    f"{args.clients} clients, {args.seconds:g} s per endpoint",
                    flush=True,
                )
                for name, path, check in [
                    ("Product page (HTML)", f"/products/{PRODUCT_SLUG}/", page_ok),
                    ("Product detail API (JSON)", f"/api/v1/products/{PRODUCT_NDC}/", api_ok),
                ]:
                    result = h.measure(
                        server.base,
                        name=f"{name}, CONN_MAX_AGE={conn_max_age}",
                        path=path,
                        concurrency=args.clients,
                        seconds=args.seconds,
                        check=check,
                    )
                    print(
                        f"  {result.name}: {result.rps:.1f} req/s, p50 {result.percentile(50):.1f} ms, "
                        f"p99 {result.percentile(99):.1f} ms, {result.error_count} errors",
                        flush=True,
                    )
                    results.append(result)
                server.stop()
                if any(r.error_count for r in results):
                    log_tail += log.read_text()[-2000:]
        except h.Stop as exc:
            print(f"Stopped by {exc}; cleaning up.", file=sys.stderr)
            return 130
        finally:
            if server is not None:
                server.stop()
            if not args.keep_db:
                database.drop()

    command = " ".join([".venv/bin/python bench/catalog_bench.py", *sys.argv[1:]]) + " (or make bench)"
    report = "\n".join(
        [
            "# Catalogue benchmark",
            "",
            f"- Date: {h.now_utc()}",
            f"- Machine: {h.machine_summary()}; load client and server share it",
            f"- Commit: {h.git_commit()}",
            f"- Command: `{command.strip()}`",
            f"- Server: gunicorn, {args.workers} sync workers on 127.0.0.1; PHARMACY_ENV=production (DEBUG off); "
            f"database `{database.name}` with the seed catalogue; one server run per CONN_MAX_AGE value "
            "(0 is the settings default: a new PostgreSQL connection per request)",
            f"- Load: {args.clients} concurrent aiohttp clients, {args.seconds:g} s per endpoint after 20 warm-up "
            "requests; latency is per request, client side",
            f"- Load average before the run: {' / '.join(f'{x:.2f}' for x in load_before)} (1 / 5 / 15 min); "
            "other work on the machine skews the figures",
            "",
            h.markdown_table(results),
            "",
        ]
    )
    if any(r.error_count for r in results):
        report += "\nErrors were counted; the end of the server log:\n\n```\n" + log_tail + "\n```\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print()
    print(report)
    return 1 if any(r.error_count or not r.latencies for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
