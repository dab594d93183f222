"""The catalogue page (catalog.views.catalogue): active products with price and stock, search,
filters, ordering and pages; and the base layout every page shares."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from tests.catalog.factories import ProductFactory
from tests.catalog.page_helpers import load_seed, text
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded():
    load_seed()


def listed(response) -> list[str]:
    return [p.name for p in response.context["products"]]


def test_catalogue_lists_active_products_with_price_and_stock(client, seeded):
    response = client.get("/")
    assert response.status_code == 200
    assert listed(response) == ["Baclofen 10 mg tablet", "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]
    page = text(response)
    assert "2 products" in page
    assert "As low as $0.17 / tablet" in page
    assert "Price on request" in page
    assert "In stock · 1,000 tablets available" in page


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "intrathecal"}, ["Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"search": "00832-1024-00"}, ["Baclofen 10 mg tablet"]),
        ({"search": "00832102400"}, ["Baclofen 10 mg tablet"]),
        ({"search": "BACLOFEN"}, ["Baclofen 10 mg tablet", "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"search": "tizanidine"}, []),
        ({"route": "oral"}, ["Baclofen 10 mg tablet"]),
        ({"route": "intrathecal"}, ["Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"dosage_form": "injection"}, ["Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"rx_required": "true"}, ["Baclofen 10 mg tablet", "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"rx_required": "false"}, []),
        ({"in_stock": "true"}, ["Baclofen 10 mg tablet"]),
        ({"in_stock": "false"}, ["Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"ordering": "name"}, ["Baclofen 10 mg tablet", "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
        ({"ordering": "-name"}, ["Baclofen 40 mg/20 mL intrathecal injection, 20 mL", "Baclofen 10 mg tablet"]),
        ({"ordering": "-price"}, ["Baclofen 10 mg tablet", "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"]),
    ],
)
def test_catalogue_search_and_filters(client, seeded, params, expected):
    response = client.get("/", params)
    assert response.status_code == 200
    assert listed(response) == expected
    if not expected:
        assert "No products match your search." in text(response)


def test_catalogue_reports_unknown_filter_values_and_ignores_them(client, seeded):
    response = client.get("/", {"route": "nasal", "search": "baclofen"})
    assert response.status_code == 200
    assert "Some filters were not understood and were ignored" in text(response)
    assert len(listed(response)) == 2


def test_catalogue_pages_keep_the_filters_and_queries_stay_flat(client):
    ProductFactory.create_batch(3, stock=5)
    with CaptureQueriesContext(connection) as few:
        client.get("/", {"search": "drugamine"})
    ProductFactory.create_batch(22, stock=5)
    with CaptureQueriesContext(connection) as many:
        first = client.get("/", {"search": "drugamine"})
    assert len(many) == len(few)
    assert len(first.context["products"]) == 20
    assert 'href="?search=drugamine&amp;page=2"' in first.content.decode()
    second = client.get("/", {"search": "drugamine", "page": "2"})
    assert len(second.context["products"]) == 5
    assert client.get("/", {"page": "999"}).status_code == 200  # out of range: last page, never a 500


def test_base_layout_has_nav_and_test_mode_banner(client):
    html = client.get("/").content.decode()
    assert 'href="/cart/"' in html
    assert 'href="/accounts/login/' in html and 'href="/accounts/register/"' in html
    assert "Test mode" in html
    with override_settings(STRIPE_SECRET_KEY="sk_live_x"):
        assert "Test mode" not in client.get("/").content.decode()
    client.force_login(UserFactory(username="maria"))
    html = client.get("/").content.decode()
    assert "Signed in as <strong>maria</strong>" in html
    assert re.search(r'<form method="post" action="/accounts/logout/"', html)
