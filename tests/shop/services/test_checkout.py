"""Checkout: frozen prices, reserved stock, what the client needs to pay, and no overselling."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from catalog.models import PriceTier, Product, StockLot, StockReservation
from catalog.services.stock import stock_available
from shop.models import CartLine, Order, OrderEvent, OrderLine

CHECKOUT = reverse("shop-api:checkout")


@pytest.mark.django_db
def test_checkout_freezes_prices_reserves_stock_and_answers_what_is_needed_to_pay(
    localstripe, shopper_client, make_product, checkout_order, settings
):
    a = make_product(on_hand=100, rx_required=True, name="Baclofen 10 mg tablet")
    b = make_product(on_hand=100)
    before = timezone.now()
    body = checkout_order(shopper_client, {a: 30, b: 2})

    assert body["number"].startswith("PH-") and len(body["number"]) == 11
    assert body["status"] == "pending_payment"
    assert body["total"] == "14.50"  # 30 x 0.45 + 2 x 0.50
    payment = body["payment"]
    assert payment["publishable_key"] == settings.STRIPE_PUBLISHABLE_KEY
    assert payment["amount_cents"] == 1450 and payment["currency"] == "usd"
    assert payment["setup_intent_client_secret"].startswith("seti_")
    assert payment["stripe_js_url"] == f"{localstripe.url}/js.stripe.com/v3/"
    assert payment["test_mode"] is True

    order = Order.objects.get(number=body["number"])
    lines = {line.product_id: line for line in order.lines.all()}
    assert (lines[a.pk].product_name, lines[a.pk].ndc, lines[a.pk].rx_required) == (a.name, a.ndc, True)
    assert (lines[a.pk].unit_price, lines[a.pk].line_total) == (Decimal("0.45"), Decimal("13.50"))

    # Stock is held under the order's reference for the configured time.
    held = StockReservation.objects.get(reference=f"order:{order.number}", product=a)
    assert held.quantity == 30 and held.status == "active"
    expected = before + settings.RESERVATION_TTL
    assert abs((held.expires_at - expected).total_seconds()) < 30
    assert order.reservation_expires_at == held.expires_at
    assert stock_available(product_ids=[a.pk])[a.pk] == 70

    # The cart is emptied, and the order's first event records the checkout.
    assert not CartLine.objects.exists()
    assert [(e.from_status, e.to_status) for e in OrderEvent.objects.filter(order=order)] == [("", "pending_payment")]

    # Later price changes never touch the order.
    PriceTier.objects.filter(product=a).update(unit_price=Decimal("9.99"))
    Product.objects.filter(pk=a.pk).update(name="Renamed")
    line = OrderLine.objects.get(order=order, product=a)
    assert (line.unit_price, line.product_name) == (Decimal("0.45"), "Baclofen 10 mg tablet")


@pytest.mark.django_db
def test_empty_cart_checkout_is_a_400_and_creates_no_order(shopper_client, shipping):
    response = shopper_client.post(CHECKOUT, shipping, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "empty_cart"
    assert response.json()["detail"].startswith("cart")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_missing_address_field_is_a_400_naming_it(shopper_client, make_product, shipping):
    product = make_product(on_hand=5)
    shopper_client.post(reverse("shop-api:cart-items"), {"product": product.ndc, "quantity": 1}, format="json")
    del shipping["shipping_city"]
    response = shopper_client.post(CHECKOUT, shipping, format="json")
    assert response.status_code == 400
    assert response.json()["detail"].startswith("shipping_city")
    assert not Order.objects.exists()


@pytest.mark.django_db
def test_checkout_of_more_than_is_left_is_a_409_listing_the_short_lines_and_saves_nothing(
    shopper_client, make_product, shipping
):
    a = make_product(on_hand=5)
    b = make_product(on_hand=5)
    for product in (a, b):
        shopper_client.post(reverse("shop-api:cart-items"), {"product": product.ndc, "quantity": 4}, format="json")
    # Someone else's reservation takes stock away after the cart was filled.
    StockReservation.objects.create(
        product=b, reference="order:PH-OTHER000", quantity=3, expires_at=timezone.now() + timedelta(minutes=5)
    )
    response = shopper_client.post(CHECKOUT, shipping, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "insufficient_stock"
    assert [line["ndc"] for line in body["lines"]] == [b.ndc]
    assert "2 left" in body["detail"]
    assert not Order.objects.exists()
    assert StockReservation.objects.count() == 1
    assert CartLine.objects.count() == 2  # the cart is kept so the shopper can adjust it


@pytest.mark.django_db
def test_checkout_still_answers_201_when_stripe_is_unreachable(settings, shopper_client, make_product, checkout_order):
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # discard port: nothing listens
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    assert body["payment"]["setup_intent_client_secret"] is None
    assert "could not be reached" in body["payment"]["error"]
    assert Order.objects.get().status == "pending_payment"


@pytest.mark.django_db
def test_a_fresh_setup_intent_can_be_asked_for_a_payable_order(
    localstripe, shopper_client, make_product, checkout_order
):
    body = checkout_order(shopper_client, {make_product(on_hand=5): 1})
    response = shopper_client.post(reverse("shop-api:order-setup-intent", args=[body["number"]]))
    assert response.status_code == 200
    assert response.json()["setup_intent_client_secret"].startswith("seti_")
    assert response.json()["setup_intent_client_secret"] != body["payment"]["setup_intent_client_secret"]


@pytest.mark.django_db(transaction=True)
def test_ten_shoppers_racing_for_the_last_three_units_exactly_three_succeed(
    make_product, make_user, api_client_for, shipping, monkeypatch
):
    product = make_product(on_hand=3)
    clients = []
    for _ in range(10):
        client = api_client_for(make_user())
        assert (
            client.post(
                reverse("shop-api:cart-items"), {"product": product.ndc, "quantity": 1}, format="json"
            ).status_code
            == 201
        )
        clients.append(client)
    barrier = threading.Barrier(len(clients))
    results = []

    def check_out(client):
        try:
            barrier.wait()
            response = client.post(CHECKOUT, shipping, format="json")
            results.append((response.status_code, response.json()))
        finally:
            connection.close()

    from shop.services import checkout as checkout_service

    # No Stripe here: this test is about the database.
    original = checkout_service.payment_info_for
    monkeypatch.setattr(
        checkout_service,
        "payment_info_for",
        lambda *, order, with_setup_intent=True: original(order=order, with_setup_intent=False),
    )
    threads = [threading.Thread(target=check_out, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    codes = sorted(code for code, _ in results)
    assert codes == [201] * 3 + [409] * 7
    assert all(
        body["code"] == "insufficient_stock" and "0 left" in body["detail"] for code, body in results if code == 409
    )
    assert Order.objects.count() == 3
    assert stock_available(product_ids=[product.pk])[product.pk] == 0
    held = StockReservation.objects.filter(product=product, status="active")
    assert sum(r.quantity for r in held) == 3
    assert StockLot.objects.get(product=product).quantity_on_hand == 3
