"""A worker killed in the middle of fulfilling an order: the order is neither lost nor shipped twice.

A real worker (``celery -A pharmacy worker --pool solo``) runs in a subprocess against this
test's database and Redis database, with the settings of ``tests.shop.killed_worker_helpers``: the
project's plus a ``SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS`` hook that pauses fulfilment right after
the stock is allocated, inside the transaction. The worker is killed with SIGKILL there, and a
second worker gets the task again from Redis once the visibility timeout (5 s here) has passed.
"""

import itertools
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from catalog.models import StockAllocation
from pharmacy.celery import app as celery_app
from rx.models import Dispense
from shop.models import Order, Shipment
from shop.services.gating import order_prescription_gate
from shop.state import OrderStatus
from tests.conftest import wait_for
from tests.shop import killed_worker_helpers
from tests.shop.fulfilment_helpers import approve, link, make_order, make_patient, make_product, make_rx, make_user

pytestmark = pytest.mark.django_db(transaction=True)
ROOT = Path(settings.BASE_DIR)
_names = itertools.count(1)


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(tmp_path: Path, pause_file: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PHARMACY_ENV": "test",
        "DATABASE_URL": _database_url(),
        "CELERY_VISIBILITY_TIMEOUT": "5",
        "CELERY_UNACKED_RESTORE_INTERVAL": "1",
        "CELERY_UNACKED_RESTORE_THROTTLE": "1",
        "DJANGO_SETTINGS_MODULE": killed_worker_helpers.__name__,
        killed_worker_helpers.PAUSE_FILE_ENV: str(pause_file),
    }
    n = next(_names)
    log_path = tmp_path / f"worker{n}.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "pharmacy",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-n",
            f"killtest{n}-{os.getpid()}@%h",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    proc.log_path = log_path
    return proc


def _kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def test_a_worker_killed_mid_fulfilment_never_loses_the_order_nor_ships_it_twice(tmp_path):
    with celery_app.connection_for_write() as conn:  # this run's own Redis database only
        conn.default_channel.client.flushdb()
    pharmacist, owner = make_user(pharmacist=True), make_user()
    patient = make_patient(owner)
    tablets, otc = make_product(lots=((60, 200), (100, 300))), make_product(rx_required=False)
    order = make_order(owner, {tablets: 90, otc: 3})
    link(order, approve(make_rx(patient, tablets), pharmacist), product=tablets)
    pause_file = tmp_path / "pause"
    pause_file.touch()
    # Covered: ready_to_fulfil, and the receiver enqueues order_fulfil_task after the commit.
    assert order_prescription_gate(order=order, actor="system").status == OrderStatus.READY_TO_FULFIL

    first = _start_worker(tmp_path, pause_file)
    try:
        wait_for(
            lambda: Path(f"{pause_file}.reached").exists() or first.poll() is not None,
            timeout=60,
            message="the first worker to pause after allocating",
        )
        assert first.poll() is None, first.log_path.read_text()
        assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLING
        _kill(first)  # SIGKILL in the middle of the pick: its transaction is rolled back
    finally:
        _kill(first)
    assert not StockAllocation.objects.filter(reference=order.stock_reference).exists()
    assert not Shipment.objects.exists()
    pause_file.unlink()

    second = _start_worker(tmp_path, pause_file)
    try:
        wait_for(
            lambda: Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED,
            timeout=60,
            message="the redelivered task to ship the order",
        )
    finally:
        _kill(second, signal.SIGTERM)

    assert "shop.tasks.order_fulfil_task" in second.log_path.read_text()  # redelivered
    order.refresh_from_db()
    assert Shipment.objects.filter(order=order).count() == 1
    shipment = Shipment.objects.get(order=order)
    assert shipment.tracking_number and shipment.shipped_at
    allocated = {}
    for a in StockAllocation.objects.filter(reference=order.stock_reference).select_related("lot"):
        allocated[a.lot.product_id] = allocated.get(a.lot.product_id, 0) + a.quantity
    assert allocated == {tablets.pk: 90, otc.pk: 3}
    line = order.lines.get(product=tablets)
    assert list(Dispense.objects.values_list("reference", "quantity")) == [
        (f"{order.stock_reference}:line:{line.pk}", 90)
    ]
    assert order.events.filter(to_status=OrderStatus.FULFILLING).count() == 1
    assert order.events.filter(to_status=OrderStatus.SHIPPED).count() == 1
