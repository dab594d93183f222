"""The product page (catalog.views.products): the two seed pages, prices, stock, reviews, queries."""

import json
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import MonographSection, Product, Review
from catalog.services.reviews import review_create, review_moderate
from tests.catalog.factories import ProductFactory
from tests.catalog.page_helpers import load_seed, text
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

TABLET = "/products/baclofen-10-mg-tablet/"
INJECTION = "/products/baclofen-40-mg-20-ml-intrathecal-injection/"


@pytest.fixture
def seeded():
    load_seed()


def test_tablet_page_shows_everything_on_the_seed_page(client, seeded):
    response = client.get(TABLET)
    assert response.status_code == 200
    page = text(response)
    for expected in [
        "Baclofen 10 mg tablet",
        "UPSHER SMITH LA",
        "00832-1024-00",
        "00832102400",
        "Prescription Required",
        "In stock",
        "Generic",
        "1,000 tablets Available",
        "As low as $0.17 / tablet",
        "1–29 tablets $2.48 / tablet",
        "30–89 tablets $2.31 / tablet",
        "90+ tablets $0.17 / tablet",
        "Total Price: $2.48",
        "Add to Cart",
        "Antispasticity agent",
        "Centrally acting skeletal muscle relaxant; GABA-B receptor agonist",
        "Category C",
        "Mar 1992",
        "Not controlled",
        "Write Your Own Review",
        "No reviews yet.",
    ]:
        assert expected in page, expected
    html = response.content.decode()
    # One section per kind on this page: each section's own title is its heading, in page order.
    titles = re.findall(r'<summary><h2 id="group-\d+-title">(.*?)</h2></summary>', html)
    assert titles == ["Uses", "Dosage and Administration", "Cautions", "Drug Interactions", "Pharmacokinetics"]
    # Sub-headings and text of the monograph are rendered, not shown as markup.
    assert "<h3>Dosage</h3>" in html and "<h4>Spasticity</h4>" in html and "<h5>Oral Dosage</h5>" in html
    assert "####" not in html
    assert "manufacturers state that total dosage should not exceed 80 mg daily" in page
    assert "Black box warning" not in page  # the oral route carries none


def test_tablet_page_add_to_cart_form_follows_the_shop_contract(client, seeded):
    html = client.get(TABLET).content.decode()
    form = re.search(r'<form method="post" action="/cart/items/add/" id="add-to-cart".*?</form>', html, re.S).group(0)
    assert 'name="csrfmiddlewaretoken"' in form
    assert '<input type="hidden" name="product" value="00832102400">' in form
    assert re.search(r'<input type="number" id="quantity" name="quantity" value="1" min="1" max="1000"', form)
    assert re.search(r'<button type="submit"[^>]*>Add to Cart</button>', form)
    tiers = json.loads(re.search(r'<script id="price-tiers" type="application/json">(.*?)</script>', html).group(1))
    assert tiers == [
        {"min_quantity": 1, "unit_price": "2.48"},
        {"min_quantity": 30, "unit_price": "2.31"},
        {"min_quantity": 90, "unit_price": "0.17"},
    ]


def test_intrathecal_page_shows_black_box_warning_and_price_on_request(client, seeded):
    response = client.get(INJECTION)
    assert response.status_code == 200
    page = text(response)
    for expected in [
        "Baclofen 40 mg/20 mL intrathecal injection, 20 mL",
        "MYLAN",
        "67457-0000-20",
        "67457000020",
        "Prescription Required",
        "Not in stock",
        "Black box warning",
        "Abrupt discontinuation of intrathecal baclofen, regardless of the cause, has resulted in severe withdrawal",
        "Price on request",
        "not yet purchasable",
        "2,000 mcg/mL",
        "20 mL",
        "BAK loe fen",
    ]:
        assert expected in page, expected
    # The warning sits above the buy box and the monograph, where it cannot be missed.
    html = response.content.decode()
    assert html.index("boxed-warning") < html.index("buy-box") < html.index("monograph")
    assert 'id="add-to-cart"' not in html
    for section in Product.objects.get(slug=INJECTION.split("/")[2]).monograph.all():
        assert f"<h3>{section.title.replace('&', '&amp;')}</h3>" in html, section.title
    for group in [
        "Overview",
        "Patient advice",
        "Dosage and administration",
        "Pharmacology and pharmacokinetics",
        "Cautions and adverse effects",
        "Drug interactions",
        "Monitoring",
        "Special patient groups",
        "Clinical information",
    ]:
        assert f">{group}</h2>" in html, group
    assert "<li>Rash</li>" in html  # nested list items of Side Effects


def test_out_of_stock_priced_product_disables_add_to_cart(client):
    product = ProductFactory(stock=0)
    html = client.get(product.get_absolute_url()).content.decode()
    assert re.search(r'<button type="submit" class="button button-primary button-block" disabled>Add to Cart', html)
    assert "Not in stock" in html


def test_review_form_for_signed_in_user_and_sign_in_link_for_anonymous(client, seeded):
    anonymous = client.get(TABLET).content.decode()
    assert 'action="/products/baclofen-10-mg-tablet/reviews/"' not in anonymous
    assert (
        'href="/accounts/login/?next=/products/baclofen-10-mg-tablet/%23reviews">Sign in</a> to write a review'
        in anonymous
    )
    client.force_login(UserFactory())
    html = client.get(TABLET).content.decode()
    form = re.search(r'<form method="post" action="/products/baclofen-10-mg-tablet/reviews/".*?</form>', html, re.S)
    assert form, "review form missing"
    form = form.group(0)
    assert "You're reviewing: <strong>BACLOFEN 10 MG TABLET</strong>" in form
    assert [int(v) for v in re.findall(r'type="radio" name="rating" value="(\d)"', form)] == [1, 2, 3, 4, 5]
    assert 'name="title"' in form and 'name="body"' in form


def test_average_rating_and_count_come_from_approved_reviews(client, seeded, admin_user):
    product = Product.objects.get(slug="baclofen-10-mg-tablet")
    reviews = [
        review_create(product=product, user=UserFactory(), rating=r, title=f"Rated {r}", body="ok") for r in (4, 5, 1)
    ]
    review_moderate(reviews=reviews[:2], status=Review.Status.APPROVED, moderator=admin_user)
    page = text(client.get(TABLET))
    assert "4.5 out of 5 · 2 reviews" in page
    assert "Rated 4" in page and "Rated 5" in page
    assert "Rated 1" not in page  # still pending


def test_unknown_or_inactive_product_is_a_404_page(client, seeded):
    response = client.get("/products/no-such-product/")
    assert response.status_code == 404
    assert "Page not found" in text(response)
    Product.objects.filter(slug="baclofen-10-mg-tablet").update(is_active=False)
    assert client.get(TABLET).status_code == 404


def test_product_page_queries_do_not_grow_with_sections_and_reviews(client, admin_user):
    product = ProductFactory(stock=10)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(product.get_absolute_url()).status_code == 200
        return len(queries)

    few = count()
    for i in range(15):
        MonographSection.objects.create(drug=product.drug, product=product, kind="other", title=f"S{i}", body="x")
    reviews = [review_create(product=product, user=UserFactory(), rating=5, title="t", body="b") for _ in range(8)]
    review_moderate(reviews=reviews, status=Review.Status.APPROVED, moderator=admin_user)
    assert count() == few
