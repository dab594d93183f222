"""Stripe webhooks: signatures, one effect per event id, out-of-order and early events, real delivery."""

import json
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.urls import reverse

from catalog.models import StockReservation
from shop.models import Order, OrderEvent, Payment, Refund, StripeEvent
from shop.services import stripe_gateway
from shop.services.webhooks import stripe_events_process_pending


def paid_events(order):
    return OrderEvent.objects.filter(order=order, to_status="paid").count()


@pytest.fixture
def pending_order(localstripe, shopper_client, make_product, checkout_order):
    body = checkout_order(shopper_client, {make_product(on_hand=20): 4})
    return Order.objects.get(number=body["number"])


def succeeded(intent_object, order, intent_id="pi_test_1", **kwargs):
    return intent_object(intent_id=intent_id, order=order, status="succeeded", **kwargs)


# --- signatures ---------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("case", ["missing", "wrong secret", "stale", "future", "tampered", "garbage"])
def test_a_bad_missing_or_stale_signature_is_a_400_and_changes_nothing(
    case, pending_order, post_webhook, stripe_event, intent_object, sign_stripe
):
    event = stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order))
    payload = json.dumps(event)
    kwargs = {
        "missing": {"signature": ""},
        "wrong secret": {"secret": "whsec_someone_else"},
        "stale": {"t": int(time.time()) - 301},
        "future": {"t": int(time.time()) + 301},
        "tampered": {"signature": sign_stripe(payload), "raw": payload.replace('"succeeded"', '"succeeded" ')},
        "garbage": {"signature": "t=abc,v1=zzz"},
    }[case]
    response = post_webhook(event, **kwargs)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_signature"
    assert not StripeEvent.objects.exists()
    assert not Payment.objects.exists()
    pending_order.refresh_from_db()
    assert pending_order.status == "pending_payment"


@pytest.mark.django_db
def test_a_signature_within_the_tolerance_is_accepted(pending_order, post_webhook, stripe_event, intent_object):
    event = stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order))
    assert post_webhook(event, t=int(time.time()) - 250).status_code == 200


@pytest.mark.django_db
def test_a_signature_slightly_ahead_of_our_clock_is_accepted(pending_order, post_webhook, stripe_event, intent_object):
    event = stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order))
    assert post_webhook(event, t=int(time.time()) + 250).status_code == 200


# --- payment_intent events ----------------------------------------------------------------


@pytest.mark.django_db
def test_payment_intent_succeeded_pays_the_order_and_holds_its_stock_for_good(
    pending_order, post_webhook, stripe_event, intent_object
):
    response = post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order)))
    assert response.status_code == 200
    assert response.json()["processed"] is True
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"
    event = OrderEvent.objects.get(order=pending_order, to_status="paid")
    assert event.actor is None and event.actor_label == "stripe webhook"
    assert Payment.objects.get().stripe_payment_intent_id == "pi_test_1"
    assert StockReservation.objects.get(reference=f"order:{pending_order.number}").expires_at is None
    stored = StripeEvent.objects.get()
    assert stored.processed_at is not None and stored.type == "payment_intent.succeeded"


@pytest.mark.django_db
def test_a_duplicate_event_changes_the_order_once(pending_order, post_webhook, stripe_event, intent_object):
    event = stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order), event_id="evt_dup")
    first = post_webhook(event)
    events_after_first = OrderEvent.objects.count()
    second = post_webhook(event)
    assert (first.status_code, second.status_code) == (200, 200)
    assert second.json()["duplicate"] is True
    assert StripeEvent.objects.count() == 1
    assert OrderEvent.objects.count() == events_after_first
    assert paid_events(pending_order) == 1


@pytest.mark.django_db
def test_payment_failed_marks_the_order_failed_and_keeps_the_reservation(
    pending_order, post_webhook, stripe_event, intent_object
):
    failed = intent_object(
        intent_id="pi_test_1", order=pending_order, status="requires_payment_method", error="Your card was declined."
    )
    assert post_webhook(stripe_event("payment_intent.payment_failed", failed)).status_code == 200
    pending_order.refresh_from_db()
    assert pending_order.status == "payment_failed"
    assert OrderEvent.objects.get(order=pending_order, to_status="payment_failed").reason == "Your card was declined."
    reservation = StockReservation.objects.get(reference=f"order:{pending_order.number}")
    assert reservation.status == "active" and reservation.expires_at is not None


@pytest.mark.django_db
def test_a_failed_event_arriving_after_succeeded_does_not_move_the_paid_order_back(
    pending_order, post_webhook, stripe_event, intent_object
):
    now = int(time.time())
    failed = intent_object(
        intent_id="pi_test_1", order=pending_order, status="requires_payment_method", error="declined"
    )
    post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order), created=now))
    post_webhook(stripe_event("payment_intent.payment_failed", failed, created=now - 5))
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"
    assert Payment.objects.get().status == "succeeded"
    assert not OrderEvent.objects.filter(order=pending_order, to_status="payment_failed").exists()


@pytest.mark.django_db
def test_failed_then_succeeded_for_a_retry_ends_paid(pending_order, post_webhook, stripe_event, intent_object):
    failed = intent_object(
        intent_id="pi_a", order=pending_order, status="requires_payment_method", attempt=1, error="declined"
    )
    post_webhook(stripe_event("payment_intent.payment_failed", failed))
    post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order, "pi_b", attempt=2)))
    # A late duplicate-looking failure of the first attempt does nothing.
    post_webhook(stripe_event("payment_intent.payment_failed", failed))
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"
    assert dict(Payment.objects.values_list("stripe_payment_intent_id", "status")) == {
        "pi_a": "failed",
        "pi_b": "succeeded",
    }


@pytest.mark.django_db
def test_an_old_requires_action_snapshot_does_not_undo_a_success(
    pending_order, post_webhook, stripe_event, intent_object
):
    post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order)))
    post_webhook(
        stripe_event(
            "payment_intent.requires_action",
            intent_object(intent_id="pi_test_1", order=pending_order, status="requires_action"),
        )
    )
    assert Payment.objects.get().status == "succeeded"


@pytest.mark.django_db
def test_a_payment_arriving_after_the_order_expired_is_refunded_through_stripe(
    localstripe, pending_order, post_webhook, stripe_event, django_capture_on_commit_callbacks
):
    # A real intent at localstripe, so the refund goes through Stripe.
    intent = stripe_gateway.payment_intent_create(
        amount_cents=pending_order.total_cents,
        currency="usd",
        payment_method="pm_card_visa",
        metadata={"order_number": pending_order.number, "attempt": "1"},
        idempotency_key="k",
    )
    from shop.services.transitions import order_transition

    order_transition(order=pending_order, to="expired", actor="system")
    obj = localstripe.get(f"/v1/payment_intents/{intent.id}")
    with django_capture_on_commit_callbacks(execute=True):
        assert post_webhook(stripe_event("payment_intent.succeeded", obj)).status_code == 200
    pending_order.refresh_from_db()
    assert pending_order.status == "expired"
    refund = Refund.objects.get(order=pending_order)
    assert (refund.amount, refund.status) == (pending_order.total, "succeeded")
    assert [(r["id"], r["amount"]) for r in localstripe.refunds()] == [
        (refund.stripe_refund_id, pending_order.total_cents)
    ]


@pytest.mark.django_db
def test_an_event_for_an_unknown_order_is_kept_and_applied_when_the_order_appears(
    pending_order, post_webhook, stripe_event, intent_object
):
    obj = succeeded(intent_object, pending_order)
    number = pending_order.number
    obj["metadata"]["order_number"] = "PH-LATER234"
    response = post_webhook(stripe_event("payment_intent.succeeded", obj))
    assert response.status_code == 200 and response.json()["processed"] is False
    assert StripeEvent.objects.get().processed_at is None
    # The order shows up (here: renamed to the number the event names), then the retry applies it.
    Order.objects.filter(number=number).update(number="PH-LATER234")
    assert stripe_events_process_pending() == 1
    assert Order.objects.get(number="PH-LATER234").status == "ready_to_fulfil"
    assert StripeEvent.objects.get().processed_at is not None


@pytest.mark.django_db
def test_other_event_types_are_stored_and_ignored(post_webhook, stripe_event):
    response = post_webhook(stripe_event("customer.created", {"id": "cus_1", "object": "customer"}))
    assert response.status_code == 200
    assert StripeEvent.objects.get().result == "ignored"


# --- early and concurrent deliveries (PostgreSQL, threads) ----------------------------------


@pytest.mark.django_db
def test_a_webhook_arriving_before_the_pay_request_recorded_its_payment_is_not_lost(
    localstripe, pending_order, shopper_client, post_webhook, stripe_event, pay, monkeypatch
):
    real_create = stripe_gateway.payment_intent_create
    delivered = []

    def create_then_deliver_webhook_first(**kwargs):
        intent = real_create(**kwargs)
        # Stripe's webhook wins the race: it lands before the pay request records anything.
        assert Payment.objects.get().stripe_payment_intent_id is None
        obj = localstripe.get(f"/v1/payment_intents/{intent.id}")
        delivered.append(post_webhook(stripe_event("payment_intent.succeeded", obj)))
        return intent

    monkeypatch.setattr(stripe_gateway, "payment_intent_create", create_then_deliver_webhook_first)
    response = pay(shopper_client, pending_order.number)
    assert delivered[0].status_code == 200 and delivered[0].json()["processed"] is True
    assert response.status_code == 200 and response.json()["status"] == "succeeded"
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"
    assert Payment.objects.count() == 1
    assert paid_events(pending_order) == 1
    assert OrderEvent.objects.get(order=pending_order, to_status="paid").actor_label == "stripe webhook"


@pytest.mark.django_db(transaction=True)
def test_a_webhook_waits_for_an_uncommitted_transaction_on_its_order_and_is_applied_after_it(
    localstripe, pending_order, post_webhook, stripe_event, intent_object
):
    results = []
    started = threading.Event()

    def deliver():
        try:
            started.set()
            results.append(
                post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order)))
            )
        finally:
            connection.close()

    with transaction.atomic():
        Order.objects.select_for_update().get(pk=pending_order.pk)  # an unfinished request holds the order
        thread = threading.Thread(target=deliver)
        thread.start()
        started.wait()
        time.sleep(0.3)
        assert not results  # the webhook is waiting for the lock, not failing
    thread.join(timeout=10)
    assert results[0].status_code == 200 and results[0].json()["processed"] is True
    pending_order.refresh_from_db()
    assert pending_order.status == "ready_to_fulfil"


@pytest.mark.django_db(transaction=True)
def test_the_same_event_delivered_twice_at_the_same_moment_changes_the_order_once(
    localstripe, pending_order, post_webhook, stripe_event, intent_object
):
    event = stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order), event_id="evt_twin")
    barrier = threading.Barrier(4)
    responses = []

    def deliver():
        try:
            barrier.wait()
            responses.append(post_webhook(event))
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r.status_code for r in responses] == [200] * 4
    assert sorted(r.json()["duplicate"] for r in responses) == [False, True, True, True]
    assert StripeEvent.objects.count() == 1
    assert paid_events(pending_order) == 1
    assert Payment.objects.count() == 1


# --- charge.refunded ----------------------------------------------------------------------


@pytest.mark.django_db
def test_charge_refunded_records_each_refund_once(paid_order, post_webhook, stripe_event, localstripe):
    intent_id = paid_order.payments.get().stripe_payment_intent_id
    charge = {
        "id": "ch_1",
        "object": "charge",
        "payment_intent": intent_id,
        "amount": paid_order.total_cents,
        "amount_refunded": 300,
        "refunds": {
            "object": "list",
            "has_more": False,
            "data": [
                {
                    "id": "re_dash_1",
                    "object": "refund",
                    "amount": 300,
                    "status": "succeeded",
                    "charge": "ch_1",
                    "payment_intent": intent_id,
                    "metadata": {},
                }
            ],
        },
    }
    assert post_webhook(stripe_event("charge.refunded", charge)).status_code == 200
    # Stripe sends a second event (another id) listing the same refund: still one refund.
    assert post_webhook(stripe_event("charge.refunded", charge)).status_code == 200
    refund = Refund.objects.get()
    assert (refund.stripe_refund_id, refund.amount, refund.status, refund.order_line) == (
        "re_dash_1",
        Decimal("3.00"),
        "succeeded",
        None,
    )
    paid_order.refresh_from_db()
    assert paid_order.status == "ready_to_fulfil"  # 3.00 of 18.50: not fully refunded


@pytest.mark.django_db
def test_charge_refunded_without_a_refund_list_reads_the_refunds_from_stripe(
    paid_order, post_webhook, stripe_event, localstripe
):
    intent_id = paid_order.payments.get().stripe_payment_intent_id
    made = localstripe.post("/v1/refunds", {"payment_intent": intent_id})  # a full refund in "the dashboard"
    charge = {
        "id": made["charge"],
        "object": "charge",
        "payment_intent": intent_id,
        "amount_refunded": paid_order.total_cents,
    }
    assert post_webhook(stripe_event("charge.refunded", charge)).status_code == 200
    assert Refund.objects.get().stripe_refund_id == made["id"]
    paid_order.refresh_from_db()
    assert paid_order.status == "refunded"
    # Nothing had been picked: the stock comes back.
    assert StockReservation.objects.filter(reference=f"order:{paid_order.number}", status="active").count() == 0


# --- real delivery from localstripe -------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_localstripe_delivers_its_signed_webhook_to_the_endpoint(
    localstripe, live_server, shopper_client, make_product, checkout_order, pay
):
    localstripe.register_webhook("live", live_server.url + reverse("shop-api:stripe-webhook"))
    try:
        body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
        result = pay(shopper_client, body["number"], localstripe.card_payment_method("4000002760003184")).json()
        assert result["status"] == "requires_action"
        # The shopper completes 3-D Secure in the browser; only Stripe's webhook tells us.
        localstripe.authenticate(result["intent_id"], result["client_secret"], success=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Order.objects.get(number=body["number"]).status == "pending_payment":
            time.sleep(0.05)
    finally:
        localstripe.unregister_webhook("live")
    order = Order.objects.get(number=body["number"])
    assert order.status == "ready_to_fulfil"
    stored = StripeEvent.objects.get(type="payment_intent.succeeded")
    assert stored.payload["data"]["object"]["id"] == result["intent_id"]
    assert OrderEvent.objects.get(order=order, to_status="paid").actor_label == "stripe webhook"


@pytest.mark.django_db
def test_a_second_charge_for_an_already_paid_order_is_refunded(
    paid_order, localstripe, post_webhook, stripe_event, django_capture_on_commit_callbacks
):
    extra = stripe_gateway.payment_intent_create(
        amount_cents=paid_order.total_cents,
        currency="usd",
        payment_method="pm_card_visa",
        metadata={"order_number": paid_order.number, "attempt": "9"},
        idempotency_key="other",
    )
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(stripe_event("payment_intent.succeeded", localstripe.get(f"/v1/payment_intents/{extra.id}")))
    refund = Refund.objects.get()
    assert (refund.payment.stripe_payment_intent_id, refund.status) == (extra.id, "succeeded")
    assert "already paid" in refund.reason
    paid_order.refresh_from_db()
    assert paid_order.status == "ready_to_fulfil"
    # The first payment is untouched: a repeat of its own event refunds nothing.
    first = paid_order.payments.get(attempt=1)
    obj = localstripe.get(f"/v1/payment_intents/{first.stripe_payment_intent_id}")
    with django_capture_on_commit_callbacks(execute=True):
        post_webhook(stripe_event("payment_intent.succeeded", obj))
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_the_stored_event_keeps_no_client_secret(pending_order, post_webhook, stripe_event, intent_object):
    post_webhook(stripe_event("payment_intent.succeeded", succeeded(intent_object, pending_order)))
    assert "client_secret" not in StripeEvent.objects.get().payload["data"]["object"]
