"""Payment discrepancies: a PaymentIntent webhook that does not match its order is recorded,
reported to the staff and changes no order; the webhook still answers 200, once per event."""

import pytest
from django.core import mail

from shop.models import Order, OrderEvent, Payment, PaymentDiscrepancy, StripeEvent


@pytest.fixture
def pending_order(localstripe, shopper_client, make_product, checkout_order):
    body = checkout_order(shopper_client, {make_product(on_hand=20): 4})
    return Order.objects.get(number=body["number"])


@pytest.fixture
def other_order(shopper_client, make_product, checkout_order, pending_order):
    body = checkout_order(shopper_client, {make_product(on_hand=20): 2})
    return Order.objects.get(number=body["number"])


def _post(post_webhook, stripe_event, obj, capture, event_type="payment_intent.succeeded", event_id=None):
    with capture(execute=True):
        response = post_webhook(stripe_event(event_type, obj, event_id=event_id))
    assert response.status_code == 200, response.json()
    return response


def _unchanged(order, status="pending_payment", paid_events=0):
    order.refresh_from_db()
    assert order.status == status
    assert OrderEvent.objects.filter(order=order, to_status="paid").count() == paid_events


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("change", "kind"),
    [
        ({"amount": 0}, "zero_amount"),
        ({"currency": "eur"}, "currency"),
        ({"amount": 1}, "amount"),
        ({"amount_plus": 100}, "amount"),
    ],
)
def test_a_succeeded_intent_that_does_not_match_the_order_is_recorded_and_pays_nothing(
    change, kind, settings, pending_order, post_webhook, stripe_event, intent_object, django_capture_on_commit_callbacks
):
    settings.PHARMACY_STAFF_EMAILS = ["pharmacist@example.com", "owner@example.com"]
    obj = intent_object(intent_id="pi_odd", order=pending_order, status="succeeded")
    if "amount_plus" in change:
        obj["amount"] += change["amount_plus"]
    else:
        obj.update(change)
    response = _post(post_webhook, stripe_event, obj, django_capture_on_commit_callbacks, event_id="evt_odd")
    assert response.json()["processed"] is True
    _unchanged(pending_order)
    assert not Payment.objects.exists()
    discrepancy = PaymentDiscrepancy.objects.get()
    assert (discrepancy.event_id, discrepancy.order, discrepancy.kind) == ("evt_odd", pending_order, kind)
    assert discrepancy.stripe_payment_intent_id == "pi_odd"
    assert discrepancy.expected == f"{pending_order.total_cents} usd"
    assert discrepancy.received == f"{obj['amount']} {obj['currency']}"
    assert "discrepancy" in StripeEvent.objects.get(event_id="evt_odd").result
    [message] = mail.outbox
    assert message.to == ["pharmacist@example.com", "owner@example.com"]
    assert pending_order.number in message.subject and "pi_odd" in message.body


@pytest.mark.django_db
def test_the_same_discrepancy_event_delivered_twice_is_recorded_and_reported_once(
    pending_order, post_webhook, stripe_event, intent_object, django_capture_on_commit_callbacks
):
    obj = intent_object(intent_id="pi_zero", order=pending_order, status="succeeded", amount=0)
    event = stripe_event("payment_intent.succeeded", obj, event_id="evt_twice")
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert post_webhook(event).status_code == 200
    assert PaymentDiscrepancy.objects.count() == 1
    assert StripeEvent.objects.count() == 1
    assert len(mail.outbox) == 1
    _unchanged(pending_order)


@pytest.mark.django_db
@pytest.mark.parametrize("event_type", ["payment_intent.succeeded", "payment_intent.payment_failed"])
def test_an_intent_of_another_order_moves_neither_order(
    event_type,
    pending_order,
    other_order,
    shopper_client,
    pay,
    post_webhook,
    stripe_event,
    localstripe,
    django_capture_on_commit_callbacks,
):
    # pending_order is paid for real; its intent then comes back naming other_order in its metadata.
    assert pay(shopper_client, pending_order.number).status_code == 200
    paid = Payment.objects.get(order=pending_order)
    obj = localstripe.get(f"/v1/payment_intents/{paid.stripe_payment_intent_id}")
    obj["metadata"] = {"order_number": other_order.number, "attempt": "1"}
    obj["amount"] = other_order.total_cents
    if event_type.endswith("failed"):
        obj["status"] = "requires_payment_method"
    _post(post_webhook, stripe_event, obj, django_capture_on_commit_callbacks, event_type=event_type)
    _unchanged(other_order)
    _unchanged(pending_order, status="ready_to_fulfil", paid_events=1)
    assert not Payment.objects.filter(order=other_order).exists()
    assert Payment.objects.get(order=pending_order).status == "succeeded"
    discrepancy = PaymentDiscrepancy.objects.get()
    assert (discrepancy.kind, discrepancy.order) == ("other_order", pending_order)
    assert (discrepancy.expected, discrepancy.received) == (
        f"order {pending_order.number}",
        f"order {other_order.number}",
    )
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_a_matching_intent_records_no_discrepancy(
    pending_order, post_webhook, stripe_event, intent_object, django_capture_on_commit_callbacks
):
    obj = intent_object(intent_id="pi_ok", order=pending_order, status="succeeded")
    _post(post_webhook, stripe_event, obj, django_capture_on_commit_callbacks)
    _unchanged(pending_order, status="ready_to_fulfil", paid_events=1)
    assert not PaymentDiscrepancy.objects.exists()
    assert not mail.outbox


@pytest.mark.django_db
def test_a_failed_intent_of_another_amount_is_not_a_discrepancy(
    pending_order, post_webhook, stripe_event, intent_object, django_capture_on_commit_callbacks
):
    obj = intent_object(intent_id="pi_f", order=pending_order, status="requires_payment_method", amount=1, error="no")
    _post(
        post_webhook, stripe_event, obj, django_capture_on_commit_callbacks, event_type="payment_intent.payment_failed"
    )
    _unchanged(pending_order, status="payment_failed")
    assert not PaymentDiscrepancy.objects.exists()
