"""Fixtures of the shop's page tests: a signed-in shopper's browser, and an order checked out on the pages."""

import pytest
from django.urls import reverse

from shop.models import Order
from tests.shop.page_helpers import SHIPPING, add


@pytest.fixture
def signed_in(client, shopper):
    client.force_login(shopper)
    return client


@pytest.fixture
def pending_order(signed_in, make_product):
    """10 units of a 50-unit product, checked out through the pages: pending payment, stock held."""
    product = make_product(on_hand=50)
    add(signed_in, product, 10)
    signed_in.post(reverse("shop:checkout"), SHIPPING)
    return Order.objects.get()
