"""Benchmark checkout: orders per second under concurrent API clients, and proof that nothing was oversold.

What it does, all on loopback, and it stops by itself:
1. creates a PostgreSQL database (``bench_pharmacy_checkout`` on the server of DATABASE_URL, or
   BENCH_DATABASE_URL), migrates it (``migrate --run-syncdb``, see ``_harness.migrate``), and creates
   ``--clients`` shoppers with API tokens, one hot SKU, ``--skus`` other SKUs and one small SKU to sell out,
2. starts localstripe (``python -m shop.stripe_local``, loopback, state in memory): every checkout asks it
   for a SetupIntent, as in production; with ``--pay`` every order is also paid with ``pm_card_visa``,
3. starts gunicorn (``--workers`` sync workers, 127.0.0.1, a free port) with PHARMACY_ENV=production,
4. runs three scenarios, each with ``--clients`` concurrent shoppers (aiohttp, token auth), each shopper
   looping "add 1 unit to the cart -> check out" (``POST /api/v1/cart/items/``, ``POST /api/v1/checkout/``):
   - hot SKU: every order is for the same product (stock enough for the whole run),
   - spread: each order is for one of ``--skus`` products picked at random,
   - sell-out: one product with ``--sellout-units`` units; the shoppers race until it is gone, and exactly
     that many orders must succeed, every other attempt being a clear 409;
   the first two for ``--seconds`` each, the sell-out until every shopper has been told none is left
   (bounded by 120 s),
5. checks in the database that no unit was oversold: per product, the active reservations plus what was
   allocated never exceed the stock received, no lot is negative, and the quantity ordered (orders still
   holding stock) equals the quantity reserved,
6. writes bench/results/checkout.md and prints it; stops gunicorn and localstripe and drops the database.

Run: ``make bench`` (all benchmarks) or
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/test .venv/bin/python bench/checkout_bench.py``.
The exit status is non-zero when a unit was oversold, the sell-out count is wrong, or a request failed
with anything other than the expected 409.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _harness as h  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "checkout.md"
SHIPPING = {
    "shipping_name": "Bench Shopper",
    "shipping_line1": "1 Main St",
    "shipping_city": "Springfield",
    "shipping_state": "IL",
    "shipping_postal_code": "62701",
    "shipping_country": "US",
}

# Run inside the project (DJANGO_SETTINGS_MODULE set): shoppers with tokens and the products; prints JSON.
_SETUP = """
import json, sys
from datetime import timedelta
from decimal import Decimal
import django
django.setup()
from django.contrib.auth import get_user_model
from django.utils import timezone
from rest_framework.authtoken.models import Token
from catalog.models import Drug, PriceTier, Product, StockLot

clients, skus, hot_stock, spread_stock, sellout_units = (int(v) for v in sys.argv[1:6])
drug, _ = Drug.objects.get_or_create(name="Benchmarkol", defaults={"slug": "benchmarkol",
                                                                   "active_ingredient": "benchmarkol"})
expiry = timezone.localdate() + timedelta(days=365)

def product(n, stock):
    ndc = f"{77000000000 + n:011d}"
    p = Product.objects.create(drug=drug, name=f"Benchmarkol 10 mg #{n}", slug=f"benchmarkol-{ndc}", ndc=ndc,
                               manufacturer="BENCH LABS", strength=Decimal("10"), strength_unit="mg",
                               dosage_form="tablet", route="oral", selling_unit="tablet", rx_required=False)
    PriceTier.objects.create(product=p, min_quantity=1, unit_price=Decimal("1.25"))
    PriceTier.objects.create(product=p, min_quantity=30, unit_price=Decimal("1.10"))
    StockLot.objects.create(product=p, lot_number=f"B{n}", quantity_received=stock, quantity_on_hand=stock,
                            expiry_date=expiry)
    return ndc

out = {"hot": product(0, hot_stock), "sellout": product(1, sellout_units),
       "spread": [product(10 + i, spread_stock) for i in range(skus)], "tokens": []}
User = get_user_model()
for i in range(clients):
    user = User.objects.create_user(username=f"bench{i}", email=f"bench{i}@example.com", password=None)
    out["tokens"].append(Token.objects.create(user=user).key)
print(json.dumps(out))
"""

# Oversell check, per product: units held (active reservations) + units allocated <= units received,
# no lot below zero, and units on orders still holding stock == units reserved for them.
_CHECK_SQL = """
WITH lots AS (
    SELECT product_id, SUM(quantity_received) AS received, SUM(quantity_on_hand) AS on_hand,
           MIN(quantity_on_hand) AS lowest_lot
    FROM catalog_stocklot GROUP BY product_id
), held AS (
    SELECT product_id, SUM(quantity) AS held FROM catalog_stockreservation
    WHERE status = 'active' GROUP BY product_id
), allocated AS (
    SELECT l.product_id, SUM(a.quantity) AS allocated FROM catalog_stockallocation a
    JOIN catalog_stocklot l ON l.id = a.lot_id GROUP BY l.product_id
), ordered AS (
    SELECT ol.product_id, SUM(ol.quantity) AS ordered, COUNT(*) AS orders FROM shop_orderline ol
    JOIN shop_order o ON o.id = ol.order_id
    WHERE o.status IN ('pending_payment', 'payment_failed', 'paid', 'awaiting_prescription_review',
                       'ready_to_fulfil')
    GROUP BY ol.product_id
)
SELECT p.ndc, lots.received, lots.on_hand, lots.lowest_lot, COALESCE(held.held, 0), COALESCE(allocated.allocated, 0),
       COALESCE(ordered.ordered, 0), COALESCE(ordered.orders, 0)
FROM catalog_product p JOIN lots ON lots.product_id = p.id
LEFT JOIN held ON held.product_id = p.id
LEFT JOIN allocated ON allocated.product_id = p.id
LEFT JOIN ordered ON ordered.product_id = p.id
ORDER BY p.ndc
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalStripe:
    """localstripe through the shop's launcher, in its own process group; ``stop()`` ends that group only."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            [h.PYTHON, "-m", "shop.stripe_local", "--port", str(self.port), "--quiet"],
            cwd=h.ROOT,
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"localstripe exited with {self.proc.returncode}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                return
            time.sleep(0.05)
        raise RuntimeError("localstripe did not start")

    def stop(self) -> None:
        h.stop_process_group(self.proc, timeout=10)
        self._log.close()


@dataclass
class Scenario:
    name: str
    clients: int
    duration: float = 0.0
    order_latencies: list[float] = field(default_factory=list)  # add to cart + checkout (+ pay)
    checkout_latencies: list[float] = field(default_factory=list)  # the checkout request alone
    add_409: int = 0
    checkout_409: int = 0
    pay_failures: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def orders(self) -> int:
        return len(self.order_latencies)

    @property
    def orders_per_second(self) -> float:
        return self.orders / self.duration if self.duration else 0.0

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, -(-len(ordered) * p // 100) - 1))] * 1000  # nearest rank


async def _run(
    base: str,
    tokens: list[str],
    scenario: Scenario,
    *,
    pick,
    seconds: float,
    pay: bool,
    until_sold_out: bool = False,
    max_orders: int = 1_000_000,
) -> None:
    headers = {"X-Forwarded-Proto": "https", "Accept": "application/json"}
    timeout = aiohttp.ClientTimeout(total=60)
    deadline = time.monotonic() + seconds
    placed = 0

    async def shopper(token: str) -> None:
        nonlocal placed
        auth = {"Authorization": f"Token {token}"}
        async with aiohttp.ClientSession(base, headers={**headers, **auth}, timeout=timeout) as session:

            async def post(path, body):
                async with session.post(path, json=body) as response:
                    return response.status, await response.json(content_type=None)

            async def clear_cart():
                async with session.get("/api/v1/cart/") as response:
                    cart = await response.json(content_type=None)
                for line in cart.get("lines", []):
                    async with session.delete(f"/api/v1/cart/items/{line['id']}/") as response:
                        await response.read()

            while time.monotonic() < deadline and placed < max_orders:
                started = time.perf_counter()
                try:
                    status, body = await post("/api/v1/cart/items/", {"product": pick(), "quantity": 1})
                    if status == 409:
                        scenario.add_409 += 1
                        if until_sold_out and body.get("available") == 0:
                            return
                        continue
                    if status != 201:
                        scenario.error(f"cart add HTTP {status}")
                        await clear_cart()
                        continue
                    checkout_started = time.perf_counter()
                    status, body = await post("/api/v1/checkout/", SHIPPING)
                    checkout_elapsed = time.perf_counter() - checkout_started
                    if status == 409:
                        scenario.checkout_409 += 1
                        await clear_cart()
                        continue
                    if status != 201 or not body.get("number"):
                        scenario.error(f"checkout HTTP {status}")
                        await clear_cart()
                        continue
                    if not (body.get("payment") or {}).get("setup_intent_client_secret"):
                        scenario.error("checkout without a SetupIntent")
                    if pay:
                        status, paid = await post(
                            f"/api/v1/orders/{body['number']}/pay/", {"payment_method": "pm_card_visa"}
                        )
                        if status != 200 or paid.get("status") != "succeeded":
                            scenario.pay_failures += 1
                    scenario.order_latencies.append(time.perf_counter() - started)
                    scenario.checkout_latencies.append(checkout_elapsed)
                    placed += 1
                except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                    scenario.error(type(exc).__name__)

    started = time.perf_counter()
    await asyncio.gather(*(shopper(token) for token in tokens[: scenario.clients]))
    scenario.duration = time.perf_counter() - started


def run(base, tokens, scenario, **kwargs) -> Scenario:
    asyncio.run(_run(base, tokens, scenario, **kwargs))
    return scenario


def scenario_table(scenarios: list[Scenario]) -> str:
    lines = [
        "| scenario | clients | seconds | orders | orders/s | p50 ms (order) | p99 ms (order) | "
        "p50 ms (checkout) | p99 ms (checkout) | 409 at cart add | 409 at checkout | other errors |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for s in scenarios:
        errors = str(sum(s.errors.values())) + (
            f" ({', '.join(f'{k}: {v}' for k, v in s.errors.items())})" if s.errors else ""
        )
        if s.pay_failures:
            errors += f"; {s.pay_failures} payments not succeeded"
        lines.append(
            f"| {s.name} | {s.clients} | {s.duration:.1f} | {s.orders} | {s.orders_per_second:.1f} | "
            f"{pct(s.order_latencies, 50):.1f} | {pct(s.order_latencies, 99):.1f} | "
            f"{pct(s.checkout_latencies, 50):.1f} | {pct(s.checkout_latencies, 99):.1f} | "
            f"{s.add_409} | {s.checkout_409} | {errors} |"
        )
    return "\n".join(lines)


def oversell_check(database_url: str) -> tuple[list[str], list[tuple]]:
    """Problems found (empty: nothing oversold) and the rows of the benchmark's own products."""
    problems, rows = [], []
    with psycopg.connect(database_url.replace("postgres://", "postgresql://", 1)) as conn:
        for ndc, received, on_hand, lowest_lot, held, allocated, ordered, orders in conn.execute(_CHECK_SQL):
            if lowest_lot < 0:
                problems.append(f"{ndc}: a lot is negative ({lowest_lot})")
            if held + allocated > received or held > on_hand:
                problems.append(f"{ndc}: {held} held + {allocated} allocated > {received} received ({on_hand} on hand)")
            if ordered != held:
                problems.append(f"{ndc}: {ordered} units on open orders but {held} reserved")
            if ndc.startswith("770"):
                rows.append((ndc, received, on_hand, held, allocated, ordered, orders))
    return problems, rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="measured duration per scenario")
    parser.add_argument("--clients", type=int, default=8, help="concurrent API shoppers")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--skus", type=int, default=200, help="products in the spread scenario")
    parser.add_argument("--sellout-units", type=int, default=100, help="units of the SKU the shoppers sell out")
    parser.add_argument("--pay", action="store_true", help="also pay every order (pm_card_visa, localstripe)")
    parser.add_argument("--conn-max-age", type=int, default=60, help="CONN_MAX_AGE of the server")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--keep-db", action="store_true", help="leave the benchmark database in place")
    args = parser.parse_args()

    base_url = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base_url:
        print("Set DATABASE_URL (PostgreSQL) or run `make bench`.", file=sys.stderr)
        return 2
    h.install_signal_handlers()
    database = h.BenchDatabase(base_url, os.environ.get("BENCH_CHECKOUT_DATABASE_NAME", "bench_pharmacy_checkout"))
    server = stripe = None
    scenarios: list[Scenario] = []
    problems: list[str] = []
    rows: list[tuple] = []
    log_tail = ""
    sellout_ok = False
    load_before = os.getloadavg()
    with h.temp_dir("pharmacy-checkout-bench-") as tmp:
        try:
            print(f"Creating database {database.name} ...", flush=True)
            database.create()
            env = h.production_env(database_url=database.url, var_dir=Path(tmp), conn_max_age=args.conn_max_age)
            print(h.migrate(env).strip(), flush=True)
            h.manage(env, "collectstatic", "--noinput")
            setup = subprocess.run(
                [
                    h.PYTHON,
                    "-c",
                    _SETUP,
                    str(args.clients),
                    str(args.skus),
                    "10000000",
                    "1000000",
                    str(args.sellout_units),
                ],
                cwd=h.ROOT,
                env={**env, "DJANGO_SETTINGS_MODULE": "pharmacy.settings"},
                capture_output=True,
                text=True,
                timeout=300,
                check=False,
            )
            if setup.returncode != 0:
                raise RuntimeError(f"setup failed:\n{setup.stdout}\n{setup.stderr}")
            data = json.loads(setup.stdout.strip().splitlines()[-1])

            stripe = LocalStripe(env, Path(tmp) / "localstripe.log")
            stripe.wait_ready()
            env.update(
                {"STRIPE_API_BASE": stripe.url, "STRIPE_MAX_NETWORK_RETRIES": "0", "STRIPE_TIMEOUT_SECONDS": "30"}
            )
            log = Path(tmp) / "gunicorn.log"
            server = h.Gunicorn(env, workers=args.workers, log_path=log)
            server.wait_ready()
            print(
                f"gunicorn ({args.workers} workers) on {server.base}, localstripe on {stripe.url}; "
                f"{args.clients} shoppers, {args.seconds:g} s per scenario",
                flush=True,
            )

            rng = random.Random(7)
            tokens = data["tokens"]
            run(
                server.base,
                tokens,
                Scenario("warm-up", min(2, args.clients)),
                pick=lambda: rng.choice(data["spread"]),
                seconds=30,
                pay=args.pay,
                max_orders=20,
            )
            for scenario, pick, extra in [
                (Scenario("hot SKU (1 product)", args.clients), lambda: data["hot"], {}),
                (Scenario(f"spread ({args.skus} products)", args.clients), lambda: rng.choice(data["spread"]), {}),
                (
                    Scenario(f"sell-out ({args.sellout_units} units of 1 product)", args.clients),
                    lambda: data["sellout"],
                    {"until_sold_out": True, "seconds": max(args.seconds, 120)},
                ),
            ]:
                run(server.base, tokens, scenario, pick=pick, pay=args.pay, **{"seconds": args.seconds, **extra})
                print(
                    f"  {scenario.name}: {scenario.orders} orders, {scenario.orders_per_second:.1f} orders/s, "
                    f"p50 {pct(scenario.order_latencies, 50):.1f} ms, "
                    f"p99 {pct(scenario.order_latencies, 99):.1f} ms, "
                    f"409: {scenario.add_409} at add, {scenario.checkout_409} at checkout, "
                    f"errors {scenario.errors}",
                    flush=True,
                )
                scenarios.append(scenario)
            sellout_ok = scenarios[-1].orders == args.sellout_units
            server.stop()
            problems, rows = oversell_check(database.url)
            if any(s.errors for s in scenarios):
                log_tail = log.read_text()[-3000:]
        except h.Stop as exc:
            print(f"Stopped by {exc}; cleaning up.", file=sys.stderr)
            return 130
        finally:
            if server is not None:
                server.stop()
            if stripe is not None:
                stripe.stop()
            if not args.keep_db:
                database.drop()

    sellout = scenarios[-1]
    command = " ".join([".venv/bin/python bench/checkout_bench.py", *sys.argv[1:]]) + " (or make bench)"
    report = "\n".join(
        [
            "# Checkout benchmark",
            "",
            f"- Date: {h.now_utc()}",
            f"- Machine: {h.machine_summary()}; load client, server, localstripe and PostgreSQL share it",
            f"- Commit: {h.git_commit()}",
            f"- Command: `{command.strip()}`",
            f"- Server: gunicorn, {args.workers} sync workers on 127.0.0.1; PHARMACY_ENV=production (DEBUG off), "
            f"CONN_MAX_AGE={args.conn_max_age}; database `{database.name}`; each checkout also creates a SetupIntent "
            "in localstripe (started by the benchmark, loopback)"
            + ("; every order is paid (pm_card_visa)" if args.pay else "; orders are not paid (checkout only)"),
            f"- Load: {args.clients} concurrent API shoppers (aiohttp, token auth, one cart each), each looping "
            "`POST /api/v1/cart/items/` (1 unit) -> `POST /api/v1/checkout/`"
            + (" -> `POST /api/v1/orders/{number}/pay/`" if args.pay else "")
            + f"; {args.seconds:g} s per scenario; an order's latency covers all its requests, client side",
            f"- Load average before the run: {' / '.join(f'{x:.2f}' for x in load_before)} (1 / 5 / 15 min); "
            "other work on the machine skews the figures",
            "",
            scenario_table(scenarios),
            "",
            'A 409 at cart add is the cart refusing more than is available ("Only N left"); a 409 at checkout is '
            "the reservation losing the race for the last units after the cart accepted them. Both are the "
            "expected, clear refusals; neither creates an order.",
            "",
            "## Oversold?",
            "",
            f"- Sell-out: {sellout.orders} orders succeeded for {args.sellout_units} units "
            f"({'exactly as many as there were units' if sellout_ok else 'WRONG'}); "
            f"{sellout.add_409 + sellout.checkout_409} attempt(s) were refused with 409 (each shopper stops at "
            "its first 409 saying none is left).",
            "- Database check after the run, per product: active reservations + allocations <= units received, "
            "no lot below zero, units on open orders == units reserved: "
            + ("**no unit oversold**." if not problems else "**PROBLEMS**: " + "; ".join(problems[:20])),
            "",
            "| product | received | on hand | reserved | allocated | on open orders | orders |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
            *[
                f"| {r[0]}{' (hot)' if r[0] == data['hot'] else ' (sell-out)' if r[0] == data['sellout'] else ''} | "
                + " | ".join(str(v) for v in r[1:])
                + " |"
                for r in rows
                if r[0] in (data["hot"], data["sellout"])
            ],
            f"| the {args.skus} spread products | {sum(r[1] for r in rows if r[0] in data['spread'])} | "
            f"{sum(r[2] for r in rows if r[0] in data['spread'])} | "
            f"{sum(r[3] for r in rows if r[0] in data['spread'])} | "
            f"{sum(r[4] for r in rows if r[0] in data['spread'])} | "
            f"{sum(r[5] for r in rows if r[0] in data['spread'])} | "
            f"{sum(r[6] for r in rows if r[0] in data['spread'])} |",
            "",
        ]
    )
    if log_tail:
        report += "\nErrors were counted; the end of the server log:\n\n```\n" + log_tail + "\n```\n"
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(report)
    print()
    print(report)
    failed = problems or not sellout_ok or any(s.errors or s.pay_failures or not s.orders for s in scenarios)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
