"""Cancelling and refunding through localstripe: full refunds with stock release, partial refunds per line."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import StockReservation
from catalog.services.stock import stock_available
from shop.models import Order, OrderLine, Refund
from shop.services.fulfilment import order_fulfil
from shop.services.refunds import order_refund_line, refund_send, refunds_retry_pending


def cancel(client, number, reason=""):
    return client.post(reverse("shop-api:order-cancel", args=[number]), {"reason": reason}, format="json")


@pytest.mark.django_db
def test_cancelling_a_paid_order_refunds_it_through_stripe_and_releases_its_stock(
    paid_order, shopper_client, localstripe
):
    product_ids = list(paid_order.lines.values_list("product_id", flat=True))
    assert stock_available(product_ids=product_ids) == {product_ids[0]: 40, product_ids[1]: 20}

    response = cancel(shopper_client, paid_order.number, "Changed my mind")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "cancelled"
    assert [(r["amount"], r["status"]) for r in body["refunds"]] == [("18.50", "succeeded")]
    assert body["events"][-1]["to_status"] == "cancelled" and body["events"][-1]["reason"] == "Changed my mind"

    intent_id = paid_order.payments.get().stripe_payment_intent_id
    refunds = localstripe.get("/v1/refunds", payment_intent=intent_id)["data"]
    assert [(r["amount"], r["metadata"]["order_number"]) for r in refunds] == [(1850, paid_order.number)]
    assert Refund.objects.get().stripe_refund_id == refunds[0]["id"]
    assert stock_available(product_ids=product_ids) == {product_ids[0]: 50, product_ids[1]: 50}
    assert not StockReservation.objects.filter(reference=f"order:{paid_order.number}", status="active").exists()


@pytest.mark.django_db
def test_cancelling_an_unpaid_order_releases_stock_and_refunds_nothing(
    localstripe, shopper_client, make_product, checkout_order
):
    product = make_product(on_hand=10)
    body = checkout_order(shopper_client, {product: 4})
    response = cancel(shopper_client, body["number"])
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert stock_available(product_ids=[product.pk])[product.pk] == 10
    assert not Refund.objects.exists() and localstripe.refunds() == []


@pytest.mark.django_db
def test_a_shipped_order_cannot_be_cancelled(paid_order, shopper_client, localstripe):
    order_fulfil(order_id=paid_order.pk)
    response = cancel(shopper_client, paid_order.number)
    assert response.status_code == 409
    assert response.json()["status"] == "shipped"
    assert localstripe.refunds() == []
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_cancelling_twice_refunds_once(paid_order, shopper_client, localstripe):
    cancel(shopper_client, paid_order.number)
    assert cancel(shopper_client, paid_order.number).status_code == 409
    assert len(localstripe.refunds()) == 1


@pytest.mark.django_db
def test_a_partial_refund_is_recorded_on_its_line_and_sent_to_stripe(paid_order, make_user, localstripe):
    staff = make_user(staff=True)
    line = paid_order.lines.get(quantity=10)  # 10 x 0.50 = 5.00
    refund = order_refund_line(
        order=paid_order, line_id=line.pk, amount=Decimal("2.00"), actor=staff, reason="Two tablets damaged"
    )
    assert (refund.status, refund.amount, refund.order_line_id, refund.created_by) == (
        "succeeded",
        Decimal("2.00"),
        line.pk,
        staff,
    )
    line.refresh_from_db()
    assert line.refunded_amount == Decimal("2.00")
    assert [(r["amount"], r["metadata"]["refund_ref"]) for r in localstripe.refunds()] == [(200, str(refund.pk))]
    paid_order.refresh_from_db()
    assert paid_order.status == "ready_to_fulfil"

    # More than what is left on the line is refused; nothing is sent or recorded.
    with pytest.raises(Exception) as excinfo:
        order_refund_line(order=paid_order, line_id=line.pk, amount=Decimal("3.01"), actor=staff)
    assert excinfo.value.status_code == 400 and "3.00" in excinfo.value.message
    assert Refund.objects.count() == 1 and len(localstripe.refunds()) == 1


@pytest.mark.django_db
def test_refunding_every_line_in_full_makes_the_order_refunded_and_frees_the_stock(paid_order, localstripe):
    for line in paid_order.lines.all():
        order_refund_line(order=paid_order, line_id=line.pk, actor="system")
    paid_order.refresh_from_db()
    assert paid_order.status == "refunded"
    assert sum(r["amount"] for r in localstripe.refunds()) == 1850
    assert all(line.refunded_amount == line.line_total for line in OrderLine.objects.filter(order=paid_order))
    assert not StockReservation.objects.filter(reference=f"order:{paid_order.number}", status="active").exists()


@pytest.mark.django_db
def test_no_refund_while_the_order_is_being_picked_or_before_it_is_paid(
    paid_order, localstripe, make_product, checkout_order, shopper_client
):
    from shop.services.transitions import order_transition

    order_transition(order=paid_order, to="fulfilling", actor="system")
    with pytest.raises(Exception) as excinfo:
        order_refund_line(order=paid_order, line_id=paid_order.lines.first().pk, actor="system")
    assert excinfo.value.status_code == 409
    unpaid = Order.objects.get(number=checkout_order(shopper_client, {make_product(on_hand=5): 1})["number"])
    with pytest.raises(Exception) as excinfo:
        order_refund_line(order=unpaid, line_id=unpaid.lines.get().pk, actor="system")
    assert excinfo.value.status_code == 409
    assert not Refund.objects.exists()


@pytest.mark.django_db
def test_a_refund_left_pending_while_stripe_was_down_is_sent_once_later(paid_order, localstripe, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    line = paid_order.lines.first()
    refund = order_refund_line(order=paid_order, line_id=line.pk, amount=Decimal("1.00"), actor="system")
    assert refund.status == "pending" and refund.stripe_refund_id is None
    settings.STRIPE_API_BASE = localstripe.url
    assert refunds_retry_pending(older_than=timedelta(0)) == 1
    refund.refresh_from_db()
    assert refund.status == "succeeded"
    # Running it again (or a late second sender) sends nothing more.
    refund_send(refund_id=refund.pk)
    refunds_retry_pending(older_than=timedelta(0))
    assert len(localstripe.refunds()) == 1


@pytest.mark.django_db
def test_a_retry_finds_a_refund_stripe_made_but_whose_answer_was_lost(paid_order, localstripe):
    from shop.services.refunds import refund_open

    refund = refund_open(order=paid_order, amount=Decimal("1.00"), actor="system", reason="test")
    intent_id = paid_order.payments.get().stripe_payment_intent_id
    # Stripe made it, but our process died before recording the answer.
    made = localstripe.post(
        "/v1/refunds", {"payment_intent": intent_id, "amount": 100, "metadata[refund_ref]": str(refund.pk)}
    )
    Refund.objects.filter(pk=refund.pk).update(send_attempts=1)
    refund = refund_send(refund_id=refund.pk)
    assert (refund.status, refund.stripe_refund_id) == ("succeeded", made["id"])
    assert len(localstripe.refunds()) == 1
