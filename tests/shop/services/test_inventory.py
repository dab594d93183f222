"""Inventory on a real Celery worker: reservation expiry by the beat task, one low-stock alert per crossing."""

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone

from catalog.models import Product, StockReservation
from catalog.services.stock import stock_available, stock_receive
from shop.models import Order, OrderEvent
from shop.services.inventory import low_stock_check, orders_expire_reservations
from shop.tasks import BEAT_SCHEDULE, orders_expire_task
from tests.conftest import wait_for


def backdate(order_number):
    past = timezone.now() - timedelta(seconds=1)
    StockReservation.objects.filter(reference=f"order:{order_number}").update(expires_at=past)
    Order.objects.filter(number=order_number).update(reservation_expires_at=past)


def test_beat_schedule_runs_the_expiry_every_minute_and_drops_stale_runs():
    entry = BEAT_SCHEDULE["shop-orders-expire"]
    assert entry["task"] == "shop.tasks.orders_expire_task"
    assert entry["schedule"] == 60.0 and entry["options"]["expires"] < 60
    assert all("expires" in e["options"] for e in BEAT_SCHEDULE.values())


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_the_beat_task_on_a_real_worker_expires_unpaid_orders_and_frees_their_stock(
    celery_worker, localstripe, make_product, make_user, api_client_for, checkout_order, pay
):
    product = make_product(on_hand=10)
    unpaid = checkout_order(api_client_for(make_user()), {product: 4})["number"]
    declined_client = api_client_for(make_user())
    declined = checkout_order(declined_client, {product: 2})["number"]
    assert pay(declined_client, declined, "pm_card_chargeCustomerFail").status_code == 402
    paid_client = api_client_for(make_user())
    paid = checkout_order(paid_client, {product: 3})["number"]
    pay(paid_client, paid)
    assert stock_available(product_ids=[product.pk])[product.pk] == 1
    backdate(unpaid)
    backdate(declined)

    orders_expire_task.delay()

    wait_for(
        lambda: set(Order.objects.filter(status="expired").values_list("number", flat=True)) == {unpaid, declined},
        message="both unpaid orders to expire",
    )
    event = OrderEvent.objects.get(order__number=unpaid, to_status="expired")
    assert (event.from_status, event.actor_label) == ("pending_payment", "system")
    assert "reservation expired" in event.reason
    assert OrderEvent.objects.get(order__number=declined, to_status="expired").from_status == "payment_failed"
    assert stock_available(product_ids=[product.pk])[product.pk] == 7
    # Not expired; the worker also fulfils it (shop.services.fulfilment), so it may have moved on.
    assert Order.objects.get(number=paid).status in ("ready_to_fulfil", "fulfilling", "shipped")
    # Running it again changes nothing.
    assert orders_expire_reservations() == []
    assert OrderEvent.objects.filter(to_status="expired").count() == 2


@pytest.mark.django_db
def test_an_order_whose_hold_was_released_some_other_way_still_expires(
    localstripe, shopper_client, make_product, checkout_order
):
    number = checkout_order(shopper_client, {make_product(on_hand=5): 1})["number"]
    StockReservation.objects.update(status="released")
    Order.objects.update(reservation_expires_at=timezone.now() - timedelta(seconds=1))
    assert orders_expire_reservations() == [number]


@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_low_stock_alert_is_sent_once_per_crossing_on_a_real_worker(
    celery_worker, localstripe, make_product, shopper_client, checkout_order, settings
):
    settings.PHARMACY_STAFF_EMAILS = ["pharmacist@example.com", "buyer@example.com"]
    product = make_product(on_hand=10, threshold=5, name="Baclofen 10 mg tablet")

    checkout_order(shopper_client, {product: 3})  # 7 left: above the threshold
    checkout_order(shopper_client, {product: 3})  # 4 left: crosses it
    wait_for(lambda: len(mail.outbox) == 1, message="the low-stock alert")
    alert = mail.outbox[0]
    assert alert.to == ["pharmacist@example.com", "buyer@example.com"]
    assert "Baclofen 10 mg tablet" in alert.subject and "4 left" in alert.subject

    checkout_order(shopper_client, {product: 1})  # 3 left: still under, no second alert
    stock_receive(
        product=product, lot_number="NEW-1", quantity=20, expiry_date=timezone.localdate() + timedelta(days=400)
    )  # 23 left: back above
    # The worker handles tasks in order: once the flag is reset, the check after the third
    # checkout has run too, and it sent nothing.
    wait_for(lambda: not Product.objects.get(pk=product.pk).low_stock_alerted, message="the alert flag reset")
    assert len(mail.outbox) == 1

    checkout_order(shopper_client, {product: 20})  # 3 left again: a new crossing
    wait_for(lambda: len(mail.outbox) == 2, message="the second alert")


@pytest.mark.django_db(transaction=True)
def test_concurrent_low_stock_checks_send_one_alert(make_product):
    product = make_product(on_hand=2, threshold=5)
    barrier = threading.Barrier(6)

    def check():
        try:
            barrier.wait()
            low_stock_check(product_ids=[product.pk])
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(mail.outbox) == 1
    assert Product.objects.get(pk=product.pk).low_stock_alerted is True


@pytest.mark.django_db
def test_products_without_a_threshold_never_alert(make_product):
    product = make_product(on_hand=0, threshold=0)
    assert low_stock_check(product_ids=[product.pk]) == []
    assert mail.outbox == []
