"""Storefront pages of the shop: add to cart, cart, checkout, card page, the shopper's orders."""

import json
import re

import pytest
from django.urls import reverse

from catalog.services.stock import stock_available
from shop.models import CartLine, Order

pytestmark = pytest.mark.django_db

SHIPPING = {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield", "state": "IL",
            "postal_code": "62701", "country": "US"}


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]] if response.context else []


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper)
    return client


def add(client, product, quantity, follow=False):
    return client.post("/cart/items/add/", {"product": product.ndc, "quantity": quantity}, follow=follow)


def test_the_product_page_form_adds_to_the_cart_and_leads_to_the_cart(client, make_product):
    product = make_product(on_hand=100)
    page = client.get(product.get_absolute_url()).content.decode()
    assert 'action="/cart/items/add/" id="add-to-cart"' in page
    response = add(client, product, 3)
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")
    cart_page = client.get(reverse("shop:cart"))
    assert f"Added 3 × {product.name} to your cart." in messages_of(cart_page)
    body = cart_page.content.decode()
    assert product.name in body and 'value="3"' in body and "$1.50" in body
    assert CartLine.objects.get().quantity == 3


def test_adding_more_than_is_available_says_how_many_are_left_and_saves_nothing(client, make_product):
    product = make_product(on_hand=5)
    response = add(client, product, 6, follow=True)
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert any("Only 5 of" in m and "left" in m for m in messages_of(response))
    assert not CartLine.objects.exists()
    add(client, product, 4)
    response = add(client, product, 2, follow=True)  # 4 + 2 > 5
    assert any("Only 5 of" in m for m in messages_of(response))
    assert CartLine.objects.get().quantity == 4


@pytest.mark.parametrize("quantity", ["0", "-2", "abc", "1.5", ""])
def test_a_bad_quantity_is_refused_with_a_message_on_the_product_page(client, make_product, quantity):
    product = make_product()
    response = add(client, product, quantity, follow=True)
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert any(m.startswith("Not added to your cart.") for m in messages_of(response))
    assert not CartLine.objects.exists()


def test_an_unknown_product_is_refused_without_an_error_page(client):
    response = client.post("/cart/items/add/", {"product": "99999999999", "quantity": 1}, follow=True)
    assert response.status_code == 200
    assert "That product is not sold here." in messages_of(response)
    assert not CartLine.objects.exists()


def test_the_cart_reprices_a_line_when_its_quantity_changes_and_removes_lines(client, make_product):
    product = make_product(on_hand=200)  # tiers 1: 0.50, 30: 0.45, 90: 0.40
    add(client, product, 29)
    body = client.get(reverse("shop:cart")).content.decode()
    assert "$0.50 / tablet" in body and "$14.50" in body
    line = CartLine.objects.get()
    client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 30})
    body = client.get(reverse("shop:cart")).content.decode()
    assert "$0.45 / tablet" in body and '<strong id="cart-total">$13.50</strong>' in body

    response = client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 500}, follow=True)
    assert any("Only 200 of" in m for m in messages_of(response))
    assert CartLine.objects.get().quantity == 30

    client.post(reverse("shop:cart-item-remove", args=[line.pk]))
    assert not CartLine.objects.exists()
    assert "Your cart is empty." in client.get(reverse("shop:cart")).content.decode()


def test_another_carts_line_cannot_be_changed(client, make_product, make_user):
    product = make_product()
    other = make_user()
    from shop.services.cart import cart_add, cart_for_user
    line = cart_add(cart=cart_for_user(user=other), product=product, quantity=2)
    client.force_login(make_user())
    assert client.post(reverse("shop:cart-item-update", args=[line.pk]), {"quantity": 5}).status_code == 404
    assert client.post(reverse("shop:cart-item-remove", args=[line.pk])).status_code == 404
    line.refresh_from_db()
    assert line.quantity == 2


def test_checkout_requires_sign_in_and_the_anonymous_cart_comes_along(client, make_product, shopper):
    product = make_product()
    add(client, product, 2)
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert "next=/checkout/" in response["Location"]
    assert client.post(reverse("shop:checkout"), SHIPPING).status_code == 302
    assert not Order.objects.exists()
    client.login(username=shopper.username, password="pw-For-tests-1")
    response = client.get(reverse("shop:checkout"))
    assert response.status_code == 200
    assert f"2 × {product.name}" in response.content.decode()


def test_checkout_with_an_empty_cart_goes_back_to_the_cart(signed_in):
    response = signed_in.get(reverse("shop:checkout"))
    assert response.status_code == 302 and response["Location"] == reverse("shop:cart")


def test_checkout_creates_the_order_and_redirects_to_its_card_page(signed_in, shopper, make_product):
    product = make_product(on_hand=100)
    add(signed_in, product, 30)
    response = signed_in.post(reverse("shop:checkout"), {**SHIPPING, "email": "ada@example.com"})
    order = Order.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order-pay", args=[order.number]) == f"/orders/{order.number}/pay/"
    assert (order.user, order.status, str(order.total), order.email) == (shopper, "pending_payment", "13.50",
                                                                      "ada@example.com")
    assert order.shipping_city == "Springfield"
    assert stock_available(product_ids=[product.pk])[product.pk] == 70
    assert not CartLine.objects.exists()


def test_checkout_with_a_bad_address_names_the_field_and_saves_nothing(signed_in, make_product):
    product = make_product()
    add(signed_in, product, 1)
    response = signed_in.post(reverse("shop:checkout"), {**SHIPPING, "city": "", "postal_code": "abc"})
    assert response.status_code == 400
    body = response.content.decode()
    assert "This field is required." in body and "Enter a ZIP code" in body and 'aria-invalid="true"' in body
    assert not Order.objects.exists()
    assert CartLine.objects.count() == 1


def test_checkout_when_stock_ran_out_since_the_cart_says_so_and_saves_nothing(signed_in, make_product, make_user):
    product = make_product(on_hand=3)
    add(signed_in, product, 3)
    from catalog.services.stock import stock_reserve
    stock_reserve(reference="other", lines=[(product.pk, 2)], ttl=None)
    response = signed_in.post(reverse("shop:checkout"), SHIPPING, follow=True)
    assert response.redirect_chain[-1][0] == reverse("shop:cart")
    assert any(m.startswith("Your order was not placed.") for m in messages_of(response))
    assert not Order.objects.exists()


@pytest.fixture
def pending_order(signed_in, make_product):
    product = make_product(on_hand=50)
    add(signed_in, product, 10)
    signed_in.post(reverse("shop:checkout"), SHIPPING)
    return Order.objects.get()


def test_the_card_page_loads_stripe_js_from_the_configured_stripe_and_shows_test_mode(signed_in, pending_order,
                                                                                     localstripe):
    response = signed_in.get(reverse("shop:order-pay", args=[pending_order.number]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<script src="{localstripe.url}/js.stripe.com/v3/"></script>' in body
    assert response.context["STRIPE_JS_URL"] == f"{localstripe.url}/js.stripe.com/v3/"
    assert "Test mode" in body and "$5.00" in body
    config = json.loads(re.search(r'<script id="checkout-config" type="application/json">(.*?)</script>',
                                  body).group(1))
    assert config["setupClientSecret"].startswith("seti_")
    assert config["publishableKey"].startswith("pk_")
    assert config["payUrl"] == f"/api/v1/orders/{pending_order.number}/pay/"
    assert "4242" not in json.dumps(config) and 'name="cardnumber"' not in body


def test_the_card_page_of_a_paid_order_leads_to_the_order(paid_order, client, shopper):
    client.force_login(shopper)
    response = client.get(reverse("shop:order-pay", args=[paid_order.number]))
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order-detail", args=[paid_order.number])


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
