"""The one webhook parser: a signed but malformed payload is a 400 naming the field, and nothing
of it is stored or applied (shop.services.webhook_events, through the webhook endpoint)."""

import json

import pytest

from shop.models import Order, Payment, PaymentDiscrepancy, StripeEvent
from shop.services.webhook_events import MalformedEvent, webhook_event_parse


@pytest.fixture
def pending_order(localstripe, shopper_client, make_product, checkout_order):
    body = checkout_order(shopper_client, {make_product(on_hand=20): 4})
    return Order.objects.get(number=body["number"])


def _intent_event(stripe_event, intent_object, order, **changes):
    obj = intent_object(intent_id="pi_bad", order=order, status="succeeded")
    obj.update(changes)
    return stripe_event("payment_intent.succeeded", obj)


INTENT_CASES = {
    "metadata is a string": ({"metadata": "PH-1"}, "data.object.metadata"),
    "metadata value is a number": ({"metadata": {"order_number": 12}}, "data.object.metadata.order_number"),
    "amount is text": ({"amount": "abc"}, "data.object.amount"),
    "amount is a fraction": ({"amount": 12.5}, "data.object.amount"),
    "amount is a boolean": ({"amount": True}, "data.object.amount"),
    "amount is negative": ({"amount": -5}, "data.object.amount"),
    "amount is missing": ({"amount": None}, "data.object.amount"),
    "amount is huge": ({"amount": 10**30}, "data.object.amount"),
    "intent id is missing": ({"id": ""}, "data.object.id"),
    "intent id is too long": ({"id": "pi_" + "x" * 300}, "data.object.id"),
    "status is a list": ({"status": ["succeeded"]}, "data.object.status"),
    "currency is a number": ({"currency": 840}, "data.object.currency"),
    "payment method is a number": ({"payment_method": 7}, "data.object.payment_method"),
    "payment method object has no id": ({"payment_method": {"type": "card"}}, "data.object.payment_method.id"),
    "last error is a string": ({"last_payment_error": "declined"}, "data.object.last_payment_error"),
    "a NUL byte in a value": ({"status": "succ\x00eeded"}, "data.object.status: contains a NUL byte"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(INTENT_CASES))
def test_a_malformed_payment_intent_is_a_400_naming_the_field_and_changes_nothing(
    case, pending_order, post_webhook, stripe_event, intent_object
):
    changes, field = INTENT_CASES[case]
    response = post_webhook(_intent_event(stripe_event, intent_object, pending_order, **changes))
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_event"
    assert field in response.json()["detail"]
    assert not StripeEvent.objects.exists()
    assert not Payment.objects.exists() and not PaymentDiscrepancy.objects.exists()
    pending_order.refresh_from_db()
    assert pending_order.status == "pending_payment"


RAW_CASES = {
    "a list": ("[1, 2]", "body: must be a JSON object"),
    "a string": ('"evt_1"', "body: must be a JSON object"),
    "a number": ("42", "body: must be a JSON object"),
    "not JSON": ("{not json", "body: not JSON"),
    "NaN": ('{"id": "evt_1", "type": "x", "data": {"object": {"amount": NaN}}}', "body: not JSON"),
    "nested too deeply": ("[" * 100_000 + "]" * 100_000, "body"),
    "no id": ('{"type": "customer.created", "data": {"object": {}}}', "id: must be a non-empty string"),
    "id is a number": ('{"id": 1, "type": "customer.created", "data": {"object": {}}}', "id: must be"),
    "no type": ('{"id": "evt_1", "data": {"object": {}}}', "type: must be a non-empty string"),
    "no data": ('{"id": "evt_1", "type": "customer.created"}', "data: must be an object"),
    "data is a list": ('{"id": "evt_1", "type": "customer.created", "data": []}', "data: must be an object"),
    "object is a string": ('{"id": "evt_1", "type": "customer.created", "data": {"object": "x"}}', "data.object:"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", list(RAW_CASES))
def test_a_signed_body_that_is_not_a_stripe_event_is_a_400_naming_the_field(case, post_webhook):
    raw, message = RAW_CASES[case]
    response = post_webhook({}, raw=raw)
    assert response.status_code == 400, response.content
    assert response.json()["code"] == "invalid_event"
    assert message in response.json()["detail"]
    assert not StripeEvent.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "value"), [("id", "evt_" + "x" * 251), ("type", "customer." + "x" * 91)])
def test_an_over_long_event_id_or_type_is_refused_and_the_longest_stored_one_accepted(
    field, value, post_webhook, stripe_event
):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})
    event[field] = value + "x"
    response = post_webhook(event)
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"{field}: longer than")
    event[field] = value
    assert post_webhook(event).status_code == 200
    assert StripeEvent.objects.get().event_id == event["id"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("event_type", "obj", "field"),
    [
        ("charge.refunded", {"id": "ch_1", "object": "charge", "refunds": "all"}, "data.object.refunds"),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "refunds": {"data": "x"}}, "data.object.refunds.data"),
        (
            "charge.refunded",
            {"id": "ch_1", "object": "charge", "refunds": {"data": [{"id": "re_1", "amount": "5"}]}},
            "data.object.refunds.data[0].amount",
        ),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": 3}, "data.object.payment_intent"),
        ("refund.created", {"id": "re_1", "object": "refund", "amount": "abc"}, "data.object.amount"),
        ("refund.created", {"id": "re_1", "object": "refund", "amount": 5, "metadata": []}, "data.object.metadata"),
    ],
)
def test_a_malformed_refund_event_is_a_400_naming_the_field(event_type, obj, field, post_webhook, stripe_event):
    response = post_webhook(stripe_event(event_type, obj))
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_event"
    assert response.json()["detail"].startswith(f"{field}:")
    assert not StripeEvent.objects.exists()


def test_the_parser_accepts_the_events_stripe_sends(stripe_event):
    """Optional fields may be missing or null, expandable ones ids or objects."""
    intent = {"id": "pi_1", "status": "succeeded", "amount": 100, "currency": "usd", "metadata": {}}
    event = webhook_event_parse(json.loads(json.dumps(stripe_event("payment_intent.succeeded", intent))))
    assert (event.type, event.object["id"]) == ("payment_intent.succeeded", "pi_1")
    intent.update(payment_method={"id": "pm_1"}, last_payment_error=None, metadata=None, client_secret=None)
    webhook_event_parse(stripe_event("payment_intent.processing", intent))
    charge = {"id": "ch_1", "object": "charge", "payment_intent": {"id": "pi_1"}, "refunds": None}
    webhook_event_parse(stripe_event("charge.refunded", charge))
    webhook_event_parse(stripe_event("customer.created", {"id": "cus_1", "anything": [1, {"a": None}]}))
    with pytest.raises(MalformedEvent, match=r"^data\.object\.anything\[1\]\.a: contains a NUL byte"):
        webhook_event_parse(stripe_event("customer.created", {"anything": [1, {"a": "\x00"}]}))
