"""Storefront order pages (shop.views.orders): the shopper's own orders with their history; the cancel
button releases the stock and refunds a paid order. (``signed_in``, ``pending_order``: conftest.py here.)"""

import pytest
from django.urls import reverse

from catalog.services.stock import stock_available
from tests.shop.page_helpers import messages_of

pytestmark = pytest.mark.django_db


def test_order_pages_show_the_shoppers_own_orders_with_lines_totals_status_and_history(signed_in, pending_order):
    body = signed_in.get(reverse("shop:order-list")).content.decode()
    assert pending_order.number in body and "Pending payment" in body and "$5.00" in body
    assert reverse("shop:order-pay", args=[pending_order.number]) in body
    response = signed_in.get(reverse("shop:order-detail", args=[pending_order.number]))
    body = response.content.decode()
    assert '<strong id="order-total">$5.00</strong>' in body
    assert "Pending payment" in body and "Checked out; stock reserved" in body
    assert 'id="pay-link"' in body and 'id="cancel-form"' in body
    assert 'href="/account/orders/"' in body  # the header's Orders link


def test_another_shoppers_order_is_404_on_every_page(client, pending_order, make_user):
    client.force_login(make_user())
    assert pending_order.number not in client.get(reverse("shop:order-list")).content.decode()
    for name in ("shop:order-detail", "shop:order-pay"):
        assert client.get(reverse(name, args=[pending_order.number])).status_code == 404
    assert client.post(reverse("shop:order-cancel", args=[pending_order.number])).status_code == 404
    pending_order.refresh_from_db()
    assert pending_order.status == "pending_payment"


def test_order_pages_require_sign_in(client, pending_order):
    client.logout()
    for url in (reverse("shop:order-list"), reverse("shop:order-detail", args=[pending_order.number])):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_the_cancel_button_cancels_the_order_and_releases_its_stock(signed_in, pending_order):
    product_id = pending_order.lines.get().product_id
    assert stock_available(product_ids=[product_id])[product_id] == 40
    response = signed_in.post(reverse("shop:order-cancel", args=[pending_order.number]), follow=True)
    assert f"Order {pending_order.number} is cancelled." in messages_of(response)
    pending_order.refresh_from_db()
    assert pending_order.status == "cancelled"
    assert stock_available(product_ids=[product_id])[product_id] == 50
    body = response.content.decode()
    assert 'id="cancel-form"' not in body and 'id="pay-link"' not in body
    assert "Pending payment → <strong>Cancelled</strong>" in body
    again = signed_in.post(reverse("shop:order-cancel", args=[pending_order.number]), follow=True)
    assert any("was not cancelled" in m for m in messages_of(again))


def test_cancelling_a_paid_order_refunds_it(client, shopper, paid_order, localstripe):
    client.force_login(shopper)
    assert 'id="cancel-form"' in client.get(reverse("shop:order-detail", args=[paid_order.number])).content.decode()
    response = client.post(reverse("shop:order-cancel", args=[paid_order.number]), follow=True)
    assert any("being refunded" in m for m in messages_of(response))
    paid_order.refresh_from_db()
    assert paid_order.status == "cancelled"
    assert [r["amount"] for r in localstripe.refunds()] == [paid_order.total_cents]
