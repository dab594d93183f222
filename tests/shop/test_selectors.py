"""shop.selectors decide the joins once: the order list and the cart answer in a fixed number of
queries, however many orders or lines."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from shop.models import Cart, CartLine

from .fulfilment_helpers import make_order, make_product, make_user

pytestmark = pytest.mark.django_db


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries)


def test_the_order_list_query_count_does_not_grow_with_orders_or_lines(django_assert_max_num_queries):
    one, many = make_user(), make_user()
    make_order(one, {make_product(rx_required=False): 1})
    products = [make_product(rx_required=False) for _ in range(3)]
    for _ in range(6):
        make_order(many, {p: 2 for p in products})
    url = reverse("shop-api:order-list")
    baseline = queries_for(client_for(one), url)
    with django_assert_max_num_queries(baseline):
        response = client_for(many).get(url)
    body = response.json()
    orders = body["results"] if isinstance(body, dict) else body
    assert len(orders) == 6 and all(len(o["lines"]) == 3 for o in orders)


def test_the_cart_query_count_does_not_grow_with_lines(django_assert_max_num_queries):
    one, many = make_user(), make_user()
    CartLine.objects.create(cart=Cart.objects.create(user=one), product=make_product(rx_required=False), quantity=1)
    cart = Cart.objects.create(user=many)
    for _ in range(8):
        CartLine.objects.create(cart=cart, product=make_product(rx_required=False), quantity=2)
    url = reverse("shop-api:cart")
    baseline = queries_for(client_for(one), url)
    with django_assert_max_num_queries(baseline):
        response = client_for(many).get(url)
    assert len(response.json()["lines"]) == 8
