"""Storefront checkout (shop.views.checkout): the address page places the order (sign-in needed, the
anonymous cart comes along, nothing saved on a bad address or short stock), the card page loads
Stripe.js and never sees a card number. (``signed_in``, ``pending_order``: conftest.py here.)"""

import json
import re

import pytest
from django.urls import reverse

from catalog.services.stock import stock_available
from core.outages import BROKER_DOWN_MESSAGE
from shop.models import CartLine, Order
from tests.shop.page_helpers import SHIPPING, add, messages_of

pytestmark = pytest.mark.django_db


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
    assert (order.user, order.status, str(order.total), order.email) == (
        shopper,
        "pending_payment",
        "13.50",
        "ada@example.com",
    )
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


def test_the_card_page_loads_stripe_js_from_the_configured_stripe_and_shows_test_mode(
    signed_in, pending_order, localstripe
):
    response = signed_in.get(reverse("shop:order-pay", args=[pending_order.number]))
    assert response.status_code == 200
    body = response.content.decode()
    assert f'<script src="{localstripe.url}/js.stripe.com/v3/"></script>' in body
    assert response.context["STRIPE_JS_URL"] == f"{localstripe.url}/js.stripe.com/v3/"
    assert "Test mode" in body and "$5.00" in body
    config = json.loads(
        re.search(r'<script id="checkout-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["setupClientSecret"].startswith("seti_")
    assert config["publishableKey"].startswith("pk_")
    assert config["payUrl"] == f"/api/v1/orders/{pending_order.number}/pay/"
    assert "4242" not in json.dumps(config) and 'name="cardnumber"' not in body


def test_the_card_page_of_a_paid_order_leads_to_the_order(paid_order, client, shopper):
    client.force_login(shopper)
    response = client.get(reverse("shop:order-pay", args=[paid_order.number]))
    assert response.status_code == 302
    assert response["Location"] == reverse("shop:order-detail", args=[paid_order.number])


def test_with_the_broker_down_the_checkout_page_says_why_with_a_503(signed_in, make_product, settings):
    """Redis (the broker) down: CELERY_BROKER_URL at a closed port; nothing is ordered (core.outages)."""
    add(signed_in, make_product(on_hand=20), 1)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
    response = signed_in.post(reverse("shop:checkout"), SHIPPING)
    assert response.status_code == 503
    assert BROKER_DOWN_MESSAGE in response.content.decode()
    assert not Order.objects.exists()
