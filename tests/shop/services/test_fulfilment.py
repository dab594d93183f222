"""Order fulfilment: FEFO picking within the days supply, dispenses, the shipment and its
carrier, idempotency, the refill race at fill time, stock problems, and the e-mails."""

import threading
from datetime import UTC, date, datetime, timedelta
from unittest import mock

import pytest
from django.db import connection

from catalog.models import StockAllocation, StockLot, StockReservation
from rx.models import Dispense, Prescription
from rx.services.verification import prescription_approve
from shop.carriers import DELIVERED, IN_TRANSIT, LocalCarrier
from shop.models import Order, OrderNotification, Shipment
from shop.services.fulfilment import order_fulfil, order_notify, shipments_track
from shop.services.gating import order_prescription_gate
from shop.state import OrderStatus
from tests.conftest import wait_for
from tests.shop import fulfilment_helpers
from tests.shop.fulfilment_helpers import (
    HOOK_CALLS,
    approve,
    link,
    make_order,
    make_patient,
    make_product,
    make_rx,
    make_user,
    ready_order,
)

READY = OrderStatus.READY_TO_FULFIL


def allocations(order):
    return list(
        StockAllocation.objects.filter(reference=order.stock_reference)
        .order_by("lot__expiry_date")
        .values_list("lot__product_id", "lot__lot_number", "quantity")
    )


@pytest.mark.django_db
def test_fulfilling_a_mixed_order_picks_fills_packs_and_ships_it_once(owner, patient, pharmacist):
    tablets, otc = make_product(), make_product(rx_required=False)
    order = ready_order(owner, patient, pharmacist, {tablets: 90, otc: 4})
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED
    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert shipment.carrier == "local" and shipment.tracking_number.startswith("LC") and shipment.shipped_at
    picked = sorted((sl.product_id, sl.quantity) for sl in shipment.lines.all())
    assert picked == sorted([(tablets.pk, 90), (otc.pk, 4)])
    line = order.lines.get(product=tablets)
    dispense = Dispense.objects.get()
    assert dispense.reference == f"{order.stock_reference}:line:{line.pk}" and dispense.quantity == 90
    assert dispense.days_supply == 30 and dispense.handed_over_at == shipment.shipped_at
    assert dispense.prescription.fills_remaining == 2
    assert [e.to_status for e in order.events.all()][-3:] == ["ready_to_fulfil", "fulfilling", "shipped"]

    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED  # a second run changes nothing
    assert Shipment.objects.count() == 1 and Dispense.objects.count() == 1
    assert sum(q for _, _, q in allocations(order)) == 94
    assert order.events.filter(to_status="shipped").count() == 1


@pytest.mark.django_db
def test_the_after_allocation_hooks_run_once_with_the_picks_before_any_dispense(owner, patient, pharmacist, settings):
    settings.SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS = [f"{fulfilment_helpers.__name__}.note_allocation_hook"]
    HOOK_CALLS.clear()
    tablets, otc = make_product(), make_product(rx_required=False)
    order = ready_order(owner, patient, pharmacist, {tablets: 90, otc: 4})
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED  # already packed: no second call
    assert HOOK_CALLS == [
        {
            "order": order.pk,
            "picked": sorted([(tablets.pk, 90), (otc.pk, 4)]),
            "allocated": 94,
            "dispensed": 0,
            "shipments": 0,
        }
    ]


@pytest.mark.django_db
def test_a_failure_after_allocating_rolls_the_step_back_and_the_retry_ships_once(owner, patient, pharmacist, settings):
    settings.SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS = [f"{fulfilment_helpers.__name__}.failing_allocation_hook"]
    order = ready_order(owner, patient, pharmacist, {make_product(): 90})
    with pytest.raises(RuntimeError, match="after allocating"):
        order_fulfil(order_id=order.pk)
    assert Order.objects.get(pk=order.pk).status == OrderStatus.FULFILLING
    assert allocations(order) == [] and not Shipment.objects.exists() and not Dispense.objects.exists()

    settings.SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS = []
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED
    assert sum(q for _, _, q in allocations(order)) == 90
    assert Shipment.objects.filter(order=order).count() == 1 and Dispense.objects.count() == 1


@pytest.mark.django_db
def test_an_order_left_fulfilling_by_a_dead_worker_is_finished(owner, patient, pharmacist):
    order = ready_order(owner, patient, pharmacist, {make_product(): 90})
    from shop.services.transitions import order_transition

    order_transition(order=order, to=OrderStatus.FULFILLING, actor="fulfilment")
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED
    assert Shipment.objects.filter(order=order).count() == 1


@pytest.mark.django_db
def test_stock_is_picked_first_expiring_first_out(owner, patient, pharmacist):
    product = make_product(lots=((50, 400), (60, 100), (40, 200)))
    order = ready_order(owner, patient, pharmacist, {product: 90})
    order_fulfil(order_id=order.pk)
    assert [q for _, _, q in allocations(order)] == [60, 30]
    assert [lot.rsplit("-", 1)[1] for _, lot, _ in allocations(order)] == ["1", "2"]  # the 100- then 200-day lot


@pytest.mark.django_db
def test_a_lot_expiring_before_the_days_supply_ends_is_skipped(owner, patient, pharmacist, settings):
    settings.FULFILMENT_EXPIRY_MARGIN_DAYS = 5
    # 90 tablets at 3 a day last 30 days: the lots good for 20 and 33 days are skipped (margin 5).
    product = make_product(lots=((200, 20), (200, 33), (200, 36)))
    order = ready_order(owner, patient, pharmacist, {product: 90})
    assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED
    assert [lot.rsplit("-", 1)[1] for _, lot, _ in allocations(order)] == ["2"]


@pytest.mark.django_db
def test_the_days_supply_is_counted_from_the_pharmacys_day(owner, patient, pharmacist, settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: 30 days' supply plus a
    # margin of 5 runs through 5 January, so a lot good until 6 January is usable.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    settings.FULFILMENT_EXPIRY_MARGIN_DAYS = 5
    product = make_product(lots=((200, 365),))
    StockLot.objects.filter(product=product).update(expiry_date=date(2027, 1, 6))
    order = ready_order(owner, patient, pharmacist, {product: 90})
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        assert order_fulfil(order_id=order.pk) == OrderStatus.SHIPPED


@pytest.mark.django_db
def test_without_usable_stock_the_order_stays_fulfilling_and_staff_are_alerted_once(
    owner, patient, pharmacist, mailoutbox
):
    product = make_product(lots=((100, 10),))  # expires before the 30 days supply ends
    order = ready_order(owner, patient, pharmacist, {product: 90})
    assert order_fulfil(order_id=order.pk) == OrderStatus.FULFILLING
    assert order_fulfil(order_id=order.pk) == OrderStatus.FULFILLING
    assert not allocations(order) and not Shipment.objects.exists() and not Dispense.objects.exists()
    assert Prescription.objects.get().fills_remaining == 3
    assert [m.subject for m in mailoutbox] == [f"Order {order.number} cannot be fulfilled: stock"]


@pytest.mark.django_db
def test_orders_not_ready_are_left_alone(owner):
    order = make_order(owner, {make_product(): 30})
    assert order_fulfil(order_id=order.pk) == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert order_fulfil(order_id=987654321) is None
    assert not allocations(order) and not Shipment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_two_orders_racing_for_the_last_refill_one_ships_the_other_goes_back_to_review():
    pharmacist = make_user(pharmacist=True)
    owner = make_user()
    patient = make_patient(owner)
    product = make_product(lots=((500, 365),))
    rx = approve(make_rx(patient, product, refills_authorized=0), pharmacist)  # one fill of 90
    orders = []
    for _ in range(2):
        order = make_order(owner, {product: 90})
        link(order, rx)
        assert order_prescription_gate(order=order, actor="system").status == READY
        orders.append(order)
    barrier = threading.Barrier(2)
    results = {}

    def fulfil(order):
        try:
            barrier.wait()
            results[order.pk] = order_fulfil(order_id=order.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=fulfil, args=(o,)) for o in orders]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results.values()) == sorted([OrderStatus.SHIPPED, OrderStatus.AWAITING_PRESCRIPTION_REVIEW])
    loser = Order.objects.get(pk=next(pk for pk, s in results.items() if s != OrderStatus.SHIPPED))
    reason = loser.events.last().reason
    # Which words the loser gets depends on when it reads the prescription: after the winner's fill
    # committed (the coverage check finds no cover), or before (the fill itself finds none left).
    assert ("used up before this order could be filled" in reason and "no refills left" in reason) or (
        "no longer covers this order" in reason
    ), reason
    assert not StockAllocation.objects.filter(reference=loser.stock_reference).exists()
    assert StockReservation.objects.get(reference=loser.stock_reference).status == "active"  # still held
    assert Dispense.objects.count() == 1 and Shipment.objects.count() == 1
    rx.refresh_from_db()
    assert rx.fills_remaining == 0 and rx.quantity_remaining == 0


@pytest.mark.django_db
def test_each_shopper_email_is_sent_once(owner, patient, pharmacist, mailoutbox):
    order = ready_order(owner, patient, pharmacist, {make_product(): 90})
    assert order_notify(order_id=order.pk, kind="confirmed") is True
    assert order_notify(order_id=order.pk, kind="confirmed") is False
    order_fulfil(order_id=order.pk)
    assert order_notify(order_id=order.pk, kind="shipped") is True
    assert order_notify(order_id=order.pk, kind="shipped") is False
    tracking = Shipment.objects.get().tracking_number
    assert [m.subject for m in mailoutbox] == [f"Order {order.number} confirmed", f"Order {order.number} has shipped"]
    assert tracking in mailoutbox[1].body and mailoutbox[0].to == [owner.email]
    assert OrderNotification.objects.filter(order=order).count() == 2


@pytest.mark.django_db
def test_carrier_reports_delivery_after_the_lead_time_and_the_order_is_marked_delivered(
    owner, patient, pharmacist, settings
):
    settings.LOCAL_CARRIER_LEAD_BUSINESS_DAYS = 2
    order = ready_order(owner, patient, pharmacist, {make_product(): 90})
    order_fulfil(order_id=order.pk)
    shipment = Shipment.objects.get()
    assert LocalCarrier().track(shipment.tracking_number) == IN_TRANSIT
    assert shipments_track() == 0
    later = shipment.shipped_at + timedelta(days=5)
    assert LocalCarrier().track(shipment.tracking_number, now=later) == DELIVERED
    settings.LOCAL_CARRIER_LEAD_BUSINESS_DAYS = 0
    assert shipments_track() == 1
    order.refresh_from_db()
    shipment.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED and shipment.delivered_at
    assert shipments_track() == 0


def test_whole_pipeline_on_a_real_worker_emails_each_step_once(celery_worker, mailoutbox, settings):
    settings.LOCAL_CARRIER_LEAD_BUSINESS_DAYS = 0
    pharmacist, owner = make_user(pharmacist=True), make_user()
    patient = make_patient(owner)
    product = make_product()
    order = make_order(owner, {product: 90})  # paid -> awaiting review: "confirmed" e-mail
    rx = make_rx(patient, product, user=owner)
    link(order, rx)
    rx.refresh_from_db()
    prescription_approve(
        prescription_id=rx.pk, pharmacist=pharmacist, overrides={f.code: "Checked." for f in rx.findings.all()}
    )
    wait_for(lambda: Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED, message="order shipped")
    wait_for(lambda: len(mailoutbox) >= 3, message="three e-mails")
    assert shipments_track() == 1
    wait_for(lambda: len(mailoutbox) >= 4, message="the delivered e-mail")
    subjects = sorted(m.subject for m in mailoutbox)
    assert subjects == sorted(
        [
            f"Order {order.number} confirmed",
            f"Your prescription RX-{rx.pk} was approved",
            f"Order {order.number} has shipped",
            f"Order {order.number} was delivered",
        ]
    )
    assert Shipment.objects.get().delivered_at is not None


@pytest.mark.django_db
def test_the_sweep_finds_ready_or_fulfilling_orders_whose_task_was_lost(owner, patient, pharmacist):
    from django.utils import timezone

    from shop.services.fulfilment import orders_fulfil_stuck

    old = ready_order(owner, patient, pharmacist, {make_product(): 90})
    recent = ready_order(owner, patient, pharmacist, {make_product(): 90})
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(minutes=11))
    assert orders_fulfil_stuck() == [old.pk]
    assert recent.pk in orders_fulfil_stuck(older_than=timedelta(minutes=-1))
    order_fulfil(order_id=old.pk)
    assert old.pk not in orders_fulfil_stuck(older_than=timedelta(minutes=-1))
