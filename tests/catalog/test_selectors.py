"""catalog.selectors decide the joins once: the API's number of queries does not grow with
products, tiers, lots or reviews."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import MonographSection, Review
from tests.catalog.factories import DrugRouteFactory, ProductFactory, ReviewFactory, StockLotFactory

pytestmark = pytest.mark.django_db

MANY_TIERS = [(1, "3.00"), (10, "2.50"), (30, "2.00"), (90, "1.00"), (500, "0.50")]


def count_queries(url, params=None):
    client = APIClient()
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    return len(queries)


def rich_product(**kwargs):
    """A product with many tiers, lots, routes, monograph sections and approved reviews."""
    product = ProductFactory(tiers=MANY_TIERS, **kwargs)
    for days in (30, 60, 90, 400):
        StockLotFactory(product=product, quantity=10, expiry_date=timezone.localdate() + timedelta(days=days))
    for route in ("oral", "intrathecal", "epidural"):
        DrugRouteFactory(drug=product.drug, route=route)
    for position in range(4):
        MonographSection.objects.create(
            drug=product.drug,
            product=product,
            kind="other",
            title=f"Section {position}",
            body="text",
            position=position,
        )
        MonographSection.objects.create(
            drug=product.drug, kind="other", title=f"General {position}", body="text", position=position
        )
    ReviewFactory.create_batch(5, product=product, status=Review.Status.APPROVED)
    return product


@pytest.mark.parametrize(
    "params",
    [{}, {"ordering": "-price"}, {"ordering": "rating", "in_stock": "true"}, {"search": "drugamine", "route": "oral"}],
)
def test_list_queries_do_not_grow_with_products_tiers_and_lots(params):
    ProductFactory(tiers=[(1, "1.00")], stock=5)
    one = count_queries("/api/v1/products/", params)
    for _ in range(12):
        rich_product()
    many = count_queries("/api/v1/products/", params)
    assert many == one
    assert one <= 4  # count, page, tiers (availability is annotated)


def test_detail_queries_do_not_grow_with_tiers_lots_routes_sections_or_reviews():
    plain = ProductFactory(tiers=[(1, "1.00")], stock=5)
    rich = rich_product()
    ProductFactory.create_batch(5)
    few = count_queries(f"/api/v1/products/{plain.ndc}/")
    many = count_queries(f"/api/v1/products/{rich.ndc}/")
    assert many == few
    assert few <= 6


def test_reviews_list_queries_do_not_grow_with_reviews():
    product = ProductFactory()
    ReviewFactory(product=product, status=Review.Status.APPROVED)
    one = count_queries(f"/api/v1/products/{product.ndc}/reviews/")
    ReviewFactory.create_batch(15, product=product, status=Review.Status.APPROVED)
    many = count_queries(f"/api/v1/products/{product.ndc}/reviews/")
    assert many == one
    assert one <= 3


def test_quote_queries_do_not_grow_with_tiers_or_lots():
    plain = ProductFactory(tiers=[(1, "1.00")], stock=5)
    rich = rich_product()
    assert count_queries(f"/api/v1/products/{rich.ndc}/quote/", {"quantity": 40}) == count_queries(
        f"/api/v1/products/{plain.ndc}/quote/", {"quantity": 40}
    )
