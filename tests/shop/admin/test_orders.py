"""Order back office (shop.admin.orders): read-only order history, and actions that go through the services."""

from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.models import Review, StockAllocation
from catalog.services.stock import stock_available
from shop.models import Order, OrderEvent, Refund, Shipment


def act(admin_client, action, orders):
    return admin_client.post(
        reverse("admin:shop_order_changelist"),
        {"action": action, "_selected_action": [o.pk for o in orders]},
        follow=True,
    )


@pytest.mark.django_db
def test_order_page_shows_lines_payments_and_events_read_only(admin_client, paid_order):
    response = admin_client.get(reverse("admin:shop_order_change", args=[paid_order.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert paid_order.number in html and "ready_to_fulfil" in html and "Refund part of a line" in html
    assert admin_client.get(reverse("admin:shop_order_add")).status_code == 403


@pytest.mark.django_db
def test_cancel_action_refunds_through_stripe_and_releases_stock(admin_client, paid_order, localstripe):
    product_ids = list(paid_order.lines.values_list("product_id", flat=True))
    response = act(admin_client, "cancel_orders", [paid_order])
    assert "1 order(s) cancelled" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == "cancelled"
    event = OrderEvent.objects.get(order=paid_order, to_status="cancelled")
    assert event.actor.username == "admin"
    assert [r["amount"] for r in localstripe.refunds()] == [paid_order.total_cents]
    assert stock_available(product_ids=product_ids) == dict.fromkeys(product_ids, 50)


@pytest.mark.django_db
def test_mark_shipped_then_delivered_records_each_step_and_verifies_reviews(admin_client, paid_order, shopper):
    product = paid_order.lines.first().product
    review = Review.objects.create(product=product, user=shopper, rating=4, title="ok", body="ok")
    act(admin_client, "mark_shipped", [paid_order])
    act(admin_client, "mark_delivered", [paid_order])
    paid_order.refresh_from_db()
    assert paid_order.status == "delivered"
    assert [e.to_status for e in OrderEvent.objects.filter(order=paid_order)][-3:] == [
        "fulfilling",
        "shipped",
        "delivered",
    ]
    review.refresh_from_db()
    assert review.verified_purchase is True


@pytest.mark.django_db
def test_the_ship_action_goes_through_fulfilment_allocating_stock_and_packing_a_shipment(admin_client, paid_order):
    product_ids = list(paid_order.lines.values_list("product_id", flat=True))
    response = act(admin_client, "mark_shipped", [paid_order])
    assert "1 order(s) shipped" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == "shipped"
    shipment = Shipment.objects.get(order=paid_order)
    assert shipment.tracking_number and shipment.shipped_at is not None
    picked = {line.order_line.product_id: line.quantity for line in shipment.lines.select_related("order_line")}
    assert picked == {line.product_id: line.quantity for line in paid_order.lines.all()}
    # The stock left the shelf: allocated from lots under the order's reference (no longer just held).
    assert sorted(
        StockAllocation.objects.filter(reference=paid_order.stock_reference).values_list("quantity", flat=True)
    ) == [10, 30]
    assert sorted(stock_available(product_ids=product_ids).values()) == [20, 40]


@pytest.mark.django_db
def test_the_ship_action_refuses_an_order_that_is_not_ready_and_changes_nothing(admin_client, paid_order):
    Order.objects.filter(pk=paid_order.pk).update(status="awaiting_prescription_review")
    response = act(admin_client, "mark_shipped", [paid_order])
    assert "only orders ready to fulfil or fulfilling can be shipped" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == "awaiting_prescription_review"
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_an_action_that_is_not_allowed_shows_why_and_changes_nothing(admin_client, paid_order):
    response = act(admin_client, "mark_delivered", [paid_order])
    assert "cannot become delivered" in response.content.decode()
    paid_order.refresh_from_db()
    assert paid_order.status == "ready_to_fulfil"


@pytest.mark.django_db
def test_partial_refund_form_refunds_one_line(admin_client, paid_order, localstripe):
    line = paid_order.lines.get(quantity=30)
    url = reverse("admin:shop_order_refund", args=[paid_order.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"line": line.pk, "amount": "4.50", "reason": "Short-dated"}, follow=True)
    assert response.status_code == 200
    refund = Refund.objects.get()
    assert (refund.order_line, refund.amount, refund.status, refund.reason) == (
        line,
        Decimal("4.50"),
        "succeeded",
        "Short-dated",
    )
    assert [r["amount"] for r in localstripe.refunds()] == [450]
    # Too much: the form says why and nothing is refunded.
    response = admin_client.post(url, {"line": line.pk, "amount": "9.01"}, follow=True)
    assert "at most 9.00" in response.content.decode()
    assert Refund.objects.count() == 1


@pytest.mark.django_db
def test_line_refund_action_refunds_what_is_left(admin_client, paid_order, localstripe):
    lines = list(paid_order.lines.all())
    admin_client.post(
        reverse("admin:shop_orderline_changelist"),
        {"action": "refund_lines", "_selected_action": [line.pk for line in lines]},
    )
    paid_order.refresh_from_db()
    assert paid_order.status == "refunded"
    assert sorted(r["amount"] for r in localstripe.refunds()) == [500, 1350]


@pytest.mark.django_db
def test_orders_cannot_be_deleted_from_the_admin(admin_client, paid_order):
    response = admin_client.post(reverse("admin:shop_order_delete", args=[paid_order.pk]), {"post": "yes"})
    assert response.status_code == 403
    assert Order.objects.filter(pk=paid_order.pk).exists()
