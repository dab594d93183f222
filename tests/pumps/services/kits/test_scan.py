"""The kit scan (pumps.services.kits.scan): standing orders' kits made once for the due pumps, an alert for
a due pump without one, dates kept in step, constant queries, and two scans at once making one kit."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import StockReservation
from catalog.services.stock import stock_receive
from pumps.models import KitAlert, KitOrder
from pumps.services import pumps as pump_services
from pumps.services.kits.dispatch import kit_order_dispatch
from pumps.services.kits.orders import kit_order_create, standing_order_set
from pumps.services.kits.scan import kits_scan
from shop.models import Order
from tests.pumps.fixtures import BEFORE_DUE, DUE, SHIP, clinic_with_staff, due_pump, kit_product, make_pump, ny


def test_the_scan_orders_the_kit_of_a_standing_order_once_however_often_it_runs(kit_world):
    standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)

    first = kits_scan(now=DUE)
    second = kits_scan(now=DUE)

    kit = KitOrder.objects.get()
    assert first.created == [kit.pk] and second.created == []
    assert kit.source == KitOrder.Source.STANDING and kit.order is not None
    assert not KitAlert.objects.exists()


def test_the_scan_leaves_pumps_whose_ship_by_is_beyond_the_lead_time(kit_world):
    standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)

    assert kits_scan(now=BEFORE_DUE).created == []
    assert not KitOrder.objects.exists() and not KitAlert.objects.exists()


def test_a_due_pump_without_kit_or_standing_order_raises_one_alert_not_silence(
    kit_world, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        kits_scan(now=DUE)
        kits_scan(now=DUE)

    alert = KitAlert.objects.get()
    assert (alert.pump_id, alert.kit_order_id, alert.reason, alert.level) == (kit_world.pump.pk, None, "no_order", 0)
    assert len(mailoutbox) == 1
    assert "desk@clinic-a.example" in mailoutbox[0].to and "staff@localhost" in mailoutbox[0].to

    kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_standing_order_without_stock_keeps_the_kit_order_and_alerts_no_stock(
    db, mailoutbox, django_capture_on_commit_callbacks
):
    product = kit_product(stock=0)
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    standing_order_set(pump=pump, user=staff, shipping=SHIP)

    with django_capture_on_commit_callbacks(execute=True):
        kits_scan(now=DUE)

    kit = KitOrder.objects.get()
    assert kit.order is None and not Order.objects.exists()
    alert = KitAlert.objects.get(kit_order=kit)
    assert alert.reason == "no_stock"
    assert len(mailoutbox) == 1

    stock_receive(
        product=product, lot_number="NEW-1", expiry_date=timezone.localdate() + timedelta(days=300), quantity=5
    )
    kit_order_dispatch(kit_order_id=kit.pk, now=DUE)

    kit.refresh_from_db()
    alert.refresh_from_db()
    assert kit.order is not None and alert.resolved_at is not None


def test_the_scan_keeps_the_kit_orders_dates_in_step_with_the_pump(kit_world):
    standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)
    kits_scan(now=DUE)
    kit = KitOrder.objects.get()
    pump_services.pump_appointment_set(pump=kit_world.pump, scheduled_at=ny(2025, 3, 10, 9, 0), now=DUE)
    kit_world.pump.refresh_from_db()
    assert kit_world.pump.ship_by != kit.ship_by

    assert kits_scan(pump_ids=[kit_world.pump.pk], now=DUE).synced == [kit.pk]

    kit.refresh_from_db()
    assert (kit.ship_by, kit.expected_delivery) == (kit_world.pump.ship_by, kit_world.pump.expected_delivery)


def test_the_scans_queries_do_not_grow_with_pumps_that_are_not_due(kit_world):
    standing_order_set(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP)
    kits_scan(now=DUE)  # the kit exists: later scans only read

    with CaptureQueriesContext(connection) as few:
        kits_scan(now=DUE)
    for _ in range(15):
        make_pump(kit_world.clinic, fill_at=ny(2025, 2, 25, 10, 0), now=ny(2025, 2, 25, 10, 0))
    with CaptureQueriesContext(connection) as many:
        kits_scan(now=DUE)

    assert len(many) == len(few)
    assert KitOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_create_one_kit_order():
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    standing_order_set(pump=pump, user=staff, shipping=SHIP)
    barrier = threading.Barrier(2)
    errors = []

    def scan():
        try:
            barrier.wait(timeout=5)
            kits_scan(now=DUE)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert KitOrder.objects.filter(pump=pump).count() == 1
    assert Order.objects.count() == 1
    assert StockReservation.objects.filter(status=StockReservation.Status.ACTIVE).count() == 1
