"""Checkout and payment while a server is down (core.outages): Redis (the broker) down is a 503 with
a reason before anything is ordered or charged; a paid webhook during a PostgreSQL outage is a 503, so
Stripe retries it, and the retry pays the order (none lost).

Redis down: CELERY_BROKER_URL points at a closed port (127.0.0.1:1). PostgreSQL down: the test seam
patches the connection's ``ensure_connection`` to raise psycopg's refused-connection OperationalError.
"""

from unittest import mock

import pytest
from django.db import OperationalError, connection
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from core.outages import BROKER_DOWN_MESSAGE
from shop.models import Order, Payment, StripeEvent

pytestmark = pytest.mark.django_db
DEAD_BROKER = "redis://127.0.0.1:1/0"


@pytest.fixture
def pending_order(localstripe, shopper_client, make_product, checkout_order):
    body = checkout_order(shopper_client, {make_product(on_hand=20): 4})
    return Order.objects.get(number=body["number"])


def test_with_the_broker_down_checkout_is_a_503_with_a_reason_and_orders_nothing(
    localstripe, shopper_client, make_product, shipping
):
    product = make_product(on_hand=20)
    shopper_client.post(reverse("shop-api:cart-items"), {"product": product.ndc, "quantity": 2}, format="json")
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        response = shopper_client.post(reverse("shop-api:checkout"), shipping, format="json")
    assert response.status_code == 503
    assert response.json() == {"code": "service_unavailable", "detail": BROKER_DOWN_MESSAGE}
    assert not Order.objects.exists()
    assert shopper_client.post(reverse("shop-api:checkout"), shipping, format="json").status_code == 201


def test_with_the_broker_down_pay_is_a_503_and_charges_nothing(pending_order, shopper_client, localstripe):
    method = localstripe.card_payment_method("4242424242424242")
    with override_settings(CELERY_BROKER_URL=DEAD_BROKER):
        response = shopper_client.post(
            reverse("shop-api:order-pay", args=[pending_order.number]), {"payment_method": method}, format="json"
        )
    assert response.status_code == 503
    assert response.json()["code"] == "service_unavailable"
    assert not Payment.objects.exists() and localstripe.payment_intents() == []


def test_a_paid_webhook_during_a_database_outage_is_a_503_and_its_retry_pays_the_order(
    pending_order, post_webhook, stripe_event, intent_object
):
    event = stripe_event(
        "payment_intent.succeeded", intent_object(intent_id="pi_outage", order=pending_order, status="succeeded")
    )
    refused = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')
    with mock.patch.object(connection, "ensure_connection", side_effect=refused):
        response = post_webhook(event, client=APIClient(raise_request_exception=False))
    assert response.status_code == 503  # Stripe retries anything but a 2xx
    assert response.json()["code"] == "service_unavailable"
    pending_order.refresh_from_db()
    assert pending_order.status == "pending_payment" and not StripeEvent.objects.exists()

    retry = post_webhook(event)
    assert retry.status_code == 200 and retry.json()["processed"] is True
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"
