"""Dispatching kits on their ship-by day (pumps.services.kits.dispatch): a covered kit is handed to
fulfilment (injected as ``fulfil=``, the real one by default) outside our transaction and marked
dispatched; what stops it fails the kit with an alert, and a later run ships it."""

from datetime import timedelta

from django.db import connection

from pumps.models import KitAlert, KitOrder
from pumps.services.kits.dispatch import kits_dispatch
from pumps.services.kits.gating import kits_prescription_changed
from pumps.services.kits.orders import kit_order_create
from shop.models import Order
from shop.services.fulfilment import order_fulfil
from shop.state import OrderStatus
from tests.pumps.fixtures import SHIP, clinic_with_staff, due_pump, intrathecal_rx, kit_product, on_day, pharmacist


def test_a_kit_is_not_dispatched_before_its_ship_by_day(covered, fulfilment):
    assert kits_dispatch(now=on_day(covered.pump.ship_by - timedelta(days=1)), fulfil=fulfilment) == []

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.SCHEDULED and fulfilment.calls == []


def test_a_covered_kit_is_handed_to_fulfilment_and_dispatched_on_its_ship_by_day(covered, fulfilment):
    moment = on_day(covered.pump.ship_by)

    assert kits_dispatch(now=moment, fulfil=fulfilment) == [covered.kit.pk]
    assert kits_dispatch(now=moment + timedelta(hours=2), fulfil=fulfilment) == []

    covered.kit.refresh_from_db()
    assert (covered.kit.status, covered.kit.dispatched_at) == (KitOrder.Status.DISPATCHED, moment)
    assert fulfilment.calls == [covered.kit.order_id]
    assert covered.kit.order.status == OrderStatus.SHIPPED
    assert not KitAlert.objects.exists()


def test_the_real_fulfilment_ships_a_covered_kit_on_its_ship_by_day(covered):
    kits_dispatch(now=on_day(covered.pump.ship_by))

    covered.kit.refresh_from_db()
    covered.kit.order.refresh_from_db()
    assert covered.kit.order.status == OrderStatus.SHIPPED
    assert covered.kit.status == KitOrder.Status.DISPATCHED


def test_a_fulfilment_error_fails_the_kit_and_alerts_then_a_later_run_ships_it(covered, fulfilment):
    def broken(*, order_id):
        raise RuntimeError("carrier down")

    moment = on_day(covered.pump.ship_by)
    kits_dispatch(now=moment, fulfil=broken)

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.FAILED and "carrier down" in covered.kit.last_error
    alert = KitAlert.objects.get(kit_order=covered.kit, reason="dispatch_failed")

    kits_dispatch(now=moment + timedelta(hours=1), fulfil=fulfilment)

    covered.kit.refresh_from_db()
    alert.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.DISPATCHED
    assert alert.resolved_at is not None


def test_a_kit_without_an_approved_prescription_on_its_ship_by_day_alerts_no_approval(db, fulfilment):
    product = kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit = kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=5)))

    kits_dispatch(now=on_day(pump.ship_by), fulfil=fulfilment)

    kit.refresh_from_db()
    assert kit.status == KitOrder.Status.SCHEDULED and fulfilment.calls == []
    assert KitAlert.objects.get(kit_order=kit).reason == "no_approval"

    rx = intrathecal_rx(pump.patient, product, approve_by=pharmacist())
    kits_prescription_changed(prescription_id=rx.pk)
    kits_dispatch(now=on_day(pump.ship_by, hour=11), fulfil=fulfilment)

    kit.refresh_from_db()
    assert kit.status == KitOrder.Status.DISPATCHED
    assert not KitAlert.objects.filter(resolved_at__isnull=True).exists()


def test_fulfilment_runs_outside_the_kits_transaction(covered):
    """Fulfilment commits step by step and calls the carrier: no lock or transaction of ours may wrap it."""
    baseline = list(connection.savepoint_ids)
    seen = []

    def spy(*, order_id):
        seen.append(list(connection.savepoint_ids))
        order_fulfil(order_id=order_id)

    kits_dispatch(now=on_day(covered.pump.ship_by), fulfil=spy)

    assert seen == [baseline]
    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.DISPATCHED


def test_a_kit_whose_fulfilment_finds_no_usable_stock_fails_with_a_no_stock_alert(covered):
    def stuck(*, order_id):
        Order.objects.filter(pk=order_id).update(status=OrderStatus.FULFILLING)

    kits_dispatch(now=on_day(covered.pump.ship_by), fulfil=stuck)

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.FAILED
    assert KitAlert.objects.filter(kit_order=covered.kit, reason="no_stock", resolved_at__isnull=True).count() == 1
