"""The product page's review form (catalog.views.reviews): a review is saved pending, bad input is refused."""

import pytest
from django.contrib.messages import get_messages

from catalog.models import Review
from tests.catalog.factories import ProductFactory
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = {"rating": "4", "title": "Helps my spasms", "body": "Less stiffness at night."}


@pytest.fixture
def product():
    return ProductFactory(name="Baclofen 10 mg tablet", slug="baclofen-10-mg-tablet", stock=100)


def post_review(client, product, **overrides):
    return client.post(f"/products/{product.slug}/reviews/", {**GOOD, **overrides})


def message_texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_review_from_the_page_is_created_pending_and_not_shown_yet(client, product):
    user = UserFactory()
    client.force_login(user)
    response = post_review(client, product)
    assert response.status_code == 302
    assert response["Location"] == "/products/baclofen-10-mg-tablet/#reviews"
    review = Review.objects.get()
    assert (review.user, review.product, review.rating, review.title, review.body, review.status) == (
        user,
        product,
        4,
        "Helps my spasms",
        "Less stiffness at night.",
        Review.Status.PENDING,
    )
    page = client.get(response["Location"]).content.decode()
    assert "Your review will appear here once our team has approved it." in page
    assert "(pending: it will appear once approved)" in page
    assert "Helps my spasms" not in page.split('id="reviews"')[1].split("Write Your Own Review")[0]
    product.refresh_from_db()
    assert (product.rating_count, product.rating_sum) == (0, 0)


def test_second_review_of_the_same_product_is_refused_with_a_message_and_nothing_saved(client, product):
    client.force_login(UserFactory())
    post_review(client, product)
    response = post_review(client, product, rating="1", title="Changed my mind", body="Second go")
    assert response.status_code == 302
    assert any("already reviewed this product" in m for m in message_texts(response))
    review = Review.objects.get()
    assert (review.rating, review.title) == (4, "Helps my spasms")


@pytest.mark.parametrize("rating", ["0", "6", "-1", "4.5", "five", ""])
def test_rating_outside_one_to_five_is_refused_and_nothing_saved(client, product, rating):
    client.force_login(UserFactory())
    response = post_review(client, product, rating=rating)
    assert response.status_code == 400
    page = response.content.decode()
    assert "Your review was not saved" in page
    assert "Choose a rating from 1 to 5 stars." in page
    assert 'value="Helps my spasms"' in page  # what the user typed is kept
    assert not Review.objects.exists()


def test_review_without_title_or_text_is_refused_and_nothing_saved(client, product):
    client.force_login(UserFactory())
    response = post_review(client, product, title="  ", body="")
    assert response.status_code == 400
    assert response.content.decode().count("This field is required.") == 2
    assert not Review.objects.exists()


def test_anonymous_review_goes_to_sign_in_and_nothing_saved(client, product):
    response = post_review(client, product)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert not Review.objects.exists()


def test_review_url_accepts_only_post_and_known_products(client, product):
    client.force_login(UserFactory())
    assert client.get(f"/products/{product.slug}/reviews/").status_code == 405
    assert client.post("/products/nope/reviews/", GOOD).status_code == 404
    assert not Review.objects.exists()
