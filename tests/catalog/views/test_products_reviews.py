"""The product page pages through its approved reviews (``?reviews_page=N``, 20 a page, newest first)."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog.models import Review
from catalog.services.reviews import review_create, review_moderate
from tests.catalog.factories import ProductFactory
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db


def add_reviews(product, moderator, count, *, start=1, status=Review.Status.APPROVED):
    """Reviews titled "Review <n>"; review 1 is the newest, each next one a minute older."""
    reviews = [
        review_create(product=product, user=UserFactory(), rating=4, title=f"Review {n}", body="b")
        for n in range(start, start + count)
    ]
    base = timezone.now()
    for n, review in enumerate(reviews, start=start):
        Review.objects.filter(pk=review.pk).update(created_at=base - timedelta(minutes=n))
    review_moderate(reviews=reviews, status=status, moderator=moderator)
    return reviews


def titles(response) -> list[str]:
    return [r.title for r in response.context["reviews"]]


def test_the_first_page_shows_the_20_newest_approved_reviews_and_a_next_link(client, admin_user):
    product = ProductFactory(stock=5)
    add_reviews(product, admin_user, 30)
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    assert titles(response) == [f"Review {n}" for n in range(1, 21)]
    html = response.content.decode()
    assert 'href="?reviews_page=2#reviews"' in html
    assert "Page 1 of 2" in html
    assert "Previous</a>" not in html


def test_review_25_appears_on_page_2_with_a_previous_link(client, admin_user):
    product = ProductFactory(stock=5)
    add_reviews(product, admin_user, 30)
    response = client.get(product.get_absolute_url(), {"reviews_page": "2"})
    assert response.status_code == 200
    assert titles(response) == [f"Review {n}" for n in range(21, 31)]
    assert "Review 25" in titles(response)
    html = response.content.decode()
    assert 'href="?reviews_page=1#reviews"' in html
    assert "Page 2 of 2" in html
    assert "Next</a>" not in html


def test_pending_and_rejected_reviews_are_not_paged(client, admin_user):
    product = ProductFactory(stock=5)
    add_reviews(product, admin_user, 3)
    add_reviews(product, admin_user, 25, start=100, status=Review.Status.REJECTED)
    response = client.get(product.get_absolute_url())
    assert titles(response) == ["Review 1", "Review 2", "Review 3"]
    assert "reviews_page=" not in response.content.decode()


@pytest.mark.parametrize("bad", ["0", "-1", "abc", "1.5", "3", "99999999999999999999999", ""])
def test_a_bad_reviews_page_number_shows_page_1_not_an_error(client, admin_user, bad):
    product = ProductFactory(stock=5)
    add_reviews(product, admin_user, 25)
    response = client.get(product.get_absolute_url(), {"reviews_page": bad})
    assert response.status_code == 200
    assert response.context["reviews_page"].number == 1
    assert titles(response)[0] == "Review 1"


def test_the_product_pages_queries_do_not_grow_with_the_number_of_reviews(client, admin_user):
    one, many = ProductFactory(stock=5), ProductFactory(stock=5)
    add_reviews(one, admin_user, 1)
    add_reviews(many, admin_user, 30)

    def count(product, **params):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(product.get_absolute_url(), params).status_code == 200
        return len(queries)

    assert count(many) == count(one)
    assert count(many, reviews_page=2) == count(one)
