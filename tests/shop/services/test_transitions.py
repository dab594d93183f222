"""Order transitions (shop.services.transitions): every allowed and every refused move, parametrised
from the map itself, with each status's entry rule (stock released, reviews verified)."""

from decimal import Decimal
from itertools import product as pairs

import pytest
from django.urls import reverse

from catalog.models import Review, StockReservation
from catalog.services.stock import stock_available, stock_reserve
from shop.models import Order, OrderEvent, OrderLine
from shop.services.transitions import TransitionRefused, order_transition
from shop.state import TRANSITIONS, OrderStatus

ALL = [s.value for s in OrderStatus]
ALLOWED = [(a, b) for a, targets in TRANSITIONS.items() for b in sorted(targets)]
REFUSED = [(a, b) for a, b in pairs(ALL, ALL) if b not in TRANSITIONS[a]]


def _order_in(status, user, product):
    order = Order.objects.create(
        number=f"PH-{Order.objects.count() + 10000000:08d}"[:11],
        user=user,
        status=status,
        currency="usd",
        subtotal=Decimal("1.00"),
        total=Decimal("1.00"),
        shipping_name="A",
        shipping_line1="1 St",
        shipping_city="C",
        shipping_state="IL",
        shipping_postal_code="62701",
    )
    OrderLine.objects.create(
        order=order,
        product=product,
        product_name=product.name,
        ndc=product.ndc,
        rx_required=False,
        unit_price=Decimal("1.00"),
        quantity=1,
        line_total=Decimal("1.00"),
    )
    return order


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), ALLOWED)
def test_allowed_transition_changes_status_and_records_one_event(from_status, to_status, shopper, make_product):
    order = _order_in(from_status, shopper, make_product(on_hand=5))
    order_transition(order=order, to=to_status, actor=shopper, reason="because")
    order.refresh_from_db()
    assert order.status == to_status
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.actor, event.actor_label, event.reason) == (
        from_status,
        to_status,
        shopper,
        shopper.username,
        "because",
    )


@pytest.mark.django_db
@pytest.mark.parametrize(("from_status", "to_status"), REFUSED)
def test_refused_transition_raises_409_with_current_status_and_saves_nothing(
    from_status, to_status, shopper, make_product
):
    order = _order_in(from_status, shopper, make_product(on_hand=5))
    with pytest.raises(TransitionRefused) as excinfo:
        order_transition(order=order, to=to_status, actor="system", reason="no")
    assert excinfo.value.status_code == 409
    assert excinfo.value.data["status"] == from_status
    order.refresh_from_db()
    assert order.status == from_status
    assert not OrderEvent.objects.filter(order=order).exists()


@pytest.mark.django_db
@pytest.mark.parametrize("to_status", ["cancelled", "expired"])
def test_cancelling_or_expiring_releases_the_orders_stock(to_status, shopper, make_product):
    product = make_product(on_hand=5)
    order = _order_in("pending_payment", shopper, product)
    stock_reserve(reference=order.stock_reference, lines=[(product.pk, 4)], ttl=None)
    order_transition(order=order, to=to_status, actor="system")
    assert stock_available(product_ids=[product.pk])[product.pk] == 5
    assert StockReservation.objects.get(reference=order.stock_reference).status == "released"


@pytest.mark.django_db
def test_delivery_marks_the_shoppers_reviews_as_verified_purchases(shopper, make_product):
    product = make_product(on_hand=5)
    review = Review.objects.create(product=product, user=shopper, rating=5, title="Good", body="Works")
    order = _order_in("shipped", shopper, product)
    order_transition(order=order, to="delivered", actor="system")
    review.refresh_from_db()
    assert review.verified_purchase is True


@pytest.mark.django_db
def test_unknown_status_is_a_400_not_a_crash(shopper, make_product):
    order = _order_in("paid", shopper, make_product(on_hand=5))
    with pytest.raises(Exception) as excinfo:
        order_transition(order=order, to="teleported", actor="system")
    assert excinfo.value.status_code == 400


@pytest.mark.django_db
def test_api_refusal_is_a_409_whose_body_names_the_current_status(shopper, shopper_client, make_product):
    order = _order_in("delivered", shopper, make_product(on_hand=5))
    response = shopper_client.post(reverse("shop-api:order-cancel", args=[order.number]), {}, format="json")
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "invalid_transition"
    assert body["status"] == "delivered"
    assert "delivered" in body["detail"]
