"""Orders API: shoppers see their own orders only, with lines, totals, status and event history."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from tests.shop.fulfilment_helpers import make_order, make_product


@pytest.fixture
def two_orders(localstripe, shopper_client, make_product, checkout_order, pay):
    first = checkout_order(shopper_client, {make_product(on_hand=50): 2})["number"]
    second = checkout_order(shopper_client, {make_product(on_hand=50): 30})["number"]
    pay(shopper_client, second)
    return first, second


@pytest.mark.django_db
def test_a_shopper_lists_their_own_orders_newest_first(
    two_orders, shopper_client, make_user, api_client_for, make_product, checkout_order
):
    checkout_order(api_client_for(make_user()), {make_product(on_hand=5): 1})  # someone else's
    response = shopper_client.get(reverse("shop-api:order-list"))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [o["number"] for o in results] == [two_orders[1], two_orders[0]]
    assert results[0]["status"] == "ready_to_fulfil" and results[0]["total"] == "13.50"
    assert results[1]["lines"][0]["quantity"] == 2


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ["number", "-created_at", "bogus"])
def test_the_orders_list_has_no_ordering_parameter_so_ordering_is_ignored(two_orders, shopper_client, ordering):
    # Only the products list can be ordered; a shopper's orders are always newest first.
    response = shopper_client.get(reverse("shop-api:order-list"), {"ordering": ordering})
    assert response.status_code == 200
    assert [o["number"] for o in response.json()["results"]] == [two_orders[1], two_orders[0]]


@pytest.mark.django_db
def test_order_detail_has_lines_totals_status_and_events(two_orders, shopper_client):
    body = shopper_client.get(reverse("shop-api:order-detail", args=[two_orders[1]])).json()
    assert body["number"] == two_orders[1]
    assert (body["subtotal"], body["total"], body["total_cents"], body["currency"]) == ("13.50", "13.50", 1350, "usd")
    line = body["lines"][0]
    assert (line["quantity"], line["unit_price"], line["line_total"]) == (30, "0.45", "13.50")
    assert [(e["from_status"], e["to_status"]) for e in body["events"]] == [
        ("", "pending_payment"),
        ("pending_payment", "paid"),
        ("paid", "ready_to_fulfil"),
    ]
    assert all({"actor", "reason", "created_at"} <= set(e) for e in body["events"])
    assert body["payments"][0]["status"] == "succeeded"
    assert body["shipping"]["city"] == "Springfield"
    assert body["payable"] is False and body["cancellable"] is True


@pytest.mark.django_db
@pytest.mark.parametrize(
    "endpoint", ["order-detail", "order-pay", "order-cancel", "order-payment-status", "order-setup-intent"]
)
def test_another_shoppers_order_number_is_404(endpoint, two_orders, make_user, api_client_for, localstripe):
    intruder = api_client_for(make_user())
    url = reverse(f"shop-api:{endpoint}", args=[two_orders[0]])
    if endpoint in ("order-detail", "order-payment-status"):
        response = intruder.get(url)
    else:
        response = intruder.post(url, {"payment_method": "pm_card_visa"}, format="json")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert len(localstripe.payment_intents()) == 1  # only the owner's payment


@pytest.mark.django_db
def test_another_shoppers_order_is_not_in_the_list(two_orders, make_user, api_client_for):
    assert api_client_for(make_user()).get(reverse("shop-api:order-list")).json()["results"] == []


@pytest.mark.django_db
def test_orders_need_a_signed_in_user(two_orders, api_client_for):
    anonymous = api_client_for(None)
    assert anonymous.get(reverse("shop-api:order-list")).status_code in (401, 403)
    assert anonymous.get(reverse("shop-api:order-detail", args=[two_orders[0]])).status_code in (401, 403)


@pytest.mark.django_db
def test_the_order_api_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/?format=json").json()
    for path in (
        "/api/v1/cart/",
        "/api/v1/cart/items/",
        "/api/v1/checkout/",
        "/api/v1/orders/{number}/pay/",
        "/api/v1/payments/stripe/webhook/",
    ):
        assert path in schema["paths"]


def _queries_for(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
def test_an_orders_detail_and_prescriptions_cost_the_same_queries_whatever_its_lines(owner):
    """Each prescription line's cover reads its link with the line (no query per line)."""
    client = APIClient()
    client.force_authenticate(owner)
    counts = []
    for n in (1, 4):
        order = make_order(owner, {make_product(name=f"Baclofen {n}-{i}"): 30 for i in range(n)})
        counts.append(
            (
                _queries_for(client, reverse("shop-api:order-detail", args=[order.number])),
                _queries_for(client, reverse("shop-api:order-prescriptions", args=[order.number])),
            )
        )
    assert counts[0] == counts[1]
