"""Who may see a shop order (shop.access): its owner only; anyone else is told it does not exist."""

import pytest
from django.contrib.auth.models import AnonymousUser

from core.errors import NotFound
from shop.access import order_for_user, orders_visible_to

from .fulfilment_helpers import make_order, make_product, make_user

pytestmark = pytest.mark.django_db


def test_an_order_is_visible_to_its_owner_only():
    owner, other = make_user(), make_user()
    order = make_order(owner, {make_product(rx_required=False): 3})
    assert list(orders_visible_to(owner)) == [order]
    assert not orders_visible_to(other).exists()
    assert not orders_visible_to(AnonymousUser()).exists()
    assert order_for_user(user=owner, number=order.number) == order
    for stranger in (other, AnonymousUser()):
        with pytest.raises(NotFound) as excinfo:
            order_for_user(user=stranger, number=order.number)
        assert excinfo.value.message == f"No order {order.number}."


def test_an_unknown_number_is_not_found_even_for_a_shopper_with_orders():
    owner = make_user()
    make_order(owner, {make_product(rx_required=False): 1})
    with pytest.raises(NotFound):
        order_for_user(user=owner, number="PH-ZZZZZZZZ")
