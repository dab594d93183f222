"""Paying an order against a real localstripe: success, declines, 3-D Secure, retries, Stripe down."""

import threading

import pytest
from django.db import connection
from django.urls import reverse

from catalog.models import StockReservation
from catalog.services.stock import stock_available
from shop.models import Order, OrderEvent, Payment

VISA = "pm_card_visa"
DECLINED = "pm_card_chargeCustomerFail"
THREE_D_SECURE = "4000002760003184"


def transitions(order):
    return [(e.from_status, e.to_status) for e in OrderEvent.objects.filter(order=order).order_by("created_at", "id")]


@pytest.mark.django_db
def test_paying_with_a_good_card_succeeds_and_moves_the_order_on(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    product = make_product(on_hand=50)
    body = checkout_order(shopper_client, {product: 10})
    response = pay(shopper_client, body["number"], VISA)
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "succeeded" and result["intent_id"].startswith("pi_")
    assert result["client_secret"] is None
    assert result["order_status"] == "ready_to_fulfil"

    order = Order.objects.get(number=body["number"])
    assert transitions(order) == [("", "pending_payment"), ("pending_payment", "paid"), ("paid", "ready_to_fulfil")]
    payment = Payment.objects.get(order=order)
    assert (payment.status, payment.amount_cents, payment.attempt) == ("succeeded", 500, 1)
    assert payment.idempotency_key == f"order-{order.number}-pay-1"
    # Stripe holds the intent with our metadata; the stock hold no longer expires.
    intent = localstripe.get(f"/v1/payment_intents/{result['intent_id']}")
    assert intent["metadata"] == {"order_number": order.number, "attempt": "1"}
    assert intent["amount"] == 500
    assert StockReservation.objects.get(reference=f"order:{order.number}").expires_at is None
    assert order.reservation_expires_at is None


@pytest.mark.django_db
def test_an_order_with_a_prescription_item_waits_for_prescription_review(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5, rx_required=True): 1, make_product(on_hand=5): 1})
    assert pay(shopper_client, body["number"]).json()["order_status"] == "awaiting_prescription_review"


@pytest.mark.django_db
def test_a_declined_card_is_a_402_with_stripes_message_and_the_order_stays_payable(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    product = make_product(on_hand=50)
    body = checkout_order(shopper_client, {product: 10})

    response = pay(shopper_client, body["number"], DECLINED)
    assert response.status_code == 402
    error = response.json()
    assert error["code"] == "payment_declined"
    assert error["detail"] == "Your card was declined."
    assert error["status"] == "payment_failed"

    order = Order.objects.get(number=body["number"])
    assert order.status == "payment_failed"
    assert Payment.objects.get(order=order).status == "failed"
    # The reservation is kept, so the shopper can retry.
    assert StockReservation.objects.get(reference=f"order:{order.number}").status == "active"
    assert stock_available(product_ids=[product.pk])[product.pk] == 40

    detail = shopper_client.get(reverse("shop-api:order-detail", args=[order.number])).json()
    assert detail["payable"] is True

    retry = pay(shopper_client, order.number, VISA)
    assert retry.status_code == 200 and retry.json()["status"] == "succeeded"
    order.refresh_from_db()
    assert order.status == "ready_to_fulfil"
    assert transitions(order) == [
        ("", "pending_payment"),
        ("pending_payment", "payment_failed"),
        ("payment_failed", "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "ready_to_fulfil"),
    ]
    assert list(Payment.objects.filter(order=order).values_list("attempt", "status")) == [
        (1, "failed"),
        (2, "succeeded"),
    ]


@pytest.mark.django_db
def test_a_three_d_secure_card_asks_for_action_then_succeeds_once_authenticated(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    card = localstripe.card_payment_method(THREE_D_SECURE)

    response = pay(shopper_client, body["number"], card)
    assert response.status_code == 200
    result = response.json()
    assert result["status"] == "requires_action"
    assert result["client_secret"].startswith(result["intent_id"])
    assert result["order_status"] == "pending_payment"

    # Asking again while the shopper authenticates starts no second payment.
    again = pay(shopper_client, body["number"], card).json()
    assert again["intent_id"] == result["intent_id"] and again["status"] == "requires_action"
    assert len(localstripe.payment_intents()) == 1

    localstripe.authenticate(result["intent_id"], result["client_secret"], success=True)
    status = shopper_client.get(reverse("shop-api:order-payment-status", args=[body["number"]])).json()
    assert status["status"] == "succeeded"
    assert status["order_status"] == "ready_to_fulfil"
    assert Order.objects.get(number=body["number"]).status == "ready_to_fulfil"


@pytest.mark.django_db
def test_a_failed_three_d_secure_leaves_the_order_payable(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    result = pay(shopper_client, body["number"], localstripe.card_payment_method(THREE_D_SECURE)).json()
    localstripe.authenticate(result["intent_id"], result["client_secret"], success=False)
    status = shopper_client.get(reverse("shop-api:order-payment-status", args=[body["number"]])).json()
    assert status["status"] == "requires_payment_method"
    assert status["order_status"] == "payment_failed"
    assert pay(shopper_client, body["number"], VISA).json()["status"] == "succeeded"


@pytest.mark.django_db
def test_a_retried_pay_request_never_charges_twice(localstripe, shopper_client, make_product, checkout_order, pay):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 2})
    first = pay(shopper_client, body["number"]).json()
    second = pay(shopper_client, body["number"])
    assert second.status_code == 200
    assert second.json()["intent_id"] == first["intent_id"]
    assert second.json()["status"] == "succeeded"
    assert len(localstripe.payment_intents()) == 1
    assert Payment.objects.count() == 1
    order = Order.objects.get()
    assert [t for t in transitions(order) if t[1] == "paid"] == [("pending_payment", "paid")]


@pytest.mark.django_db(transaction=True)
def test_pay_requests_arriving_together_charge_once(localstripe, shopper, api_client_for, make_product, checkout_order):
    body = checkout_order(api_client_for(shopper), {make_product(on_hand=5): 2})
    barrier = threading.Barrier(5)
    codes = []

    def pay_now():
        try:
            client = api_client_for(shopper)
            barrier.wait()
            response = client.post(
                reverse("shop-api:order-pay", args=[body["number"]]), {"payment_method": VISA}, format="json"
            )
            codes.append((response.status_code, response.json()))
        finally:
            connection.close()

    threads = [threading.Thread(target=pay_now) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(localstripe.payment_intents()) == 1
    assert Payment.objects.count() == 1
    ok = [b for c, b in codes if c == 200]
    assert ok and all(b["status"] == "succeeded" for b in ok)
    assert all(b["code"] == "payment_in_progress" for c, b in codes if c != 200)
    assert Order.objects.get().status == "ready_to_fulfil"


@pytest.mark.django_db
def test_stripe_unreachable_is_a_503_then_the_same_attempt_is_retried_with_the_same_key(
    localstripe, settings, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    response = pay(shopper_client, body["number"])
    assert response.status_code == 503
    assert response.json()["code"] == "payment_service_unavailable"
    assert "could not be reached" in response.json()["detail"]
    payment = Payment.objects.get()
    assert payment.status == "unknown"
    assert Order.objects.get().status == "pending_payment"

    settings.STRIPE_API_BASE = localstripe.url
    assert pay(shopper_client, body["number"]).json()["status"] == "succeeded"
    payment = Payment.objects.get()  # still one attempt, with the same idempotency key
    assert (payment.attempt, payment.status, payment.idempotency_key) == (
        1,
        "succeeded",
        f"order-{body['number']}-pay-1",
    )


@pytest.mark.django_db
def test_an_unknown_payment_method_is_a_400_naming_the_field(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    response = pay(shopper_client, body["number"], "pm_does_not_exist")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("payment_method")
    assert Order.objects.get().status == "pending_payment"
    assert pay(shopper_client, body["number"], "").status_code == 400


@pytest.mark.django_db
def test_an_expired_reservation_cannot_be_paid(localstripe, shopper_client, make_product, checkout_order, pay):
    from datetime import timedelta

    from django.utils import timezone

    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    Order.objects.update(reservation_expires_at=timezone.now() - timedelta(seconds=1))
    response = pay(shopper_client, body["number"])
    assert response.status_code == 409
    assert response.json()["code"] == "reservation_expired"
    assert localstripe.payment_intents() == []


@pytest.mark.django_db
def test_a_paid_order_cannot_be_paid_again_with_another_card(paid_order, shopper_client, localstripe, pay):
    response = pay(shopper_client, paid_order.number, "pm_card_visa")
    assert response.json()["status"] == "succeeded"
    assert len(localstripe.payment_intents()) == 1


@pytest.mark.django_db
def test_a_cancelled_order_cannot_be_paid(localstripe, shopper_client, make_product, checkout_order, pay):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    shopper_client.post(reverse("shop-api:order-cancel", args=[body["number"]]), {}, format="json")
    response = pay(shopper_client, body["number"])
    assert response.status_code == 409
    assert response.json()["status"] == "cancelled"
    assert localstripe.payment_intents() == []


@pytest.mark.django_db
def test_offering_another_card_after_an_abandoned_three_d_secure_cancels_the_first_intent(
    localstripe, shopper_client, make_product, checkout_order, pay
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    first = pay(shopper_client, body["number"], localstripe.card_payment_method(THREE_D_SECURE)).json()
    assert first["status"] == "requires_action"
    second = pay(shopper_client, body["number"], VISA).json()
    assert second["status"] == "succeeded" and second["intent_id"] != first["intent_id"]
    assert localstripe.get(f"/v1/payment_intents/{first['intent_id']}")["status"] == "canceled"
    assert list(Payment.objects.values_list("attempt", "status")) == [(1, "canceled"), (2, "succeeded")]
    assert Order.objects.get().status == "ready_to_fulfil"
