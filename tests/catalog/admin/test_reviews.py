"""Review moderation in the back office (catalog.admin.reviews): bulk approve and reject keep the
rating summary right; reviews are never edited or deleted there."""

import pytest

from catalog.models import Product, Review
from tests.catalog.factories import ProductFactory
from tests.core.factories import UserFactory

pytestmark = pytest.mark.django_db

GOOD = {"rating": "4", "title": "Helps my spasms", "body": "Less stiffness at night."}


@pytest.fixture
def product():
    return ProductFactory(name="Baclofen 10 mg tablet", slug="baclofen-10-mg-tablet", stock=100)


def post_review(client, product, **overrides):
    """Write a review as a customer does, through the product page's form."""
    return client.post(f"/products/{product.slug}/reviews/", {**GOOD, **overrides})


def moderate(client, action, reviews):
    return client.post(
        "/admin/catalog/review/",
        {"action": action, "_selected_action": [r.pk for r in reviews], "index": "0"},
        follow=True,
    )


def summary(product):
    product = Product.objects.get(pk=product.pk)
    return product.rating_count, product.rating_sum, product.rating_average


def write_reviews(client, product, ratings):
    for rating in ratings:
        client.force_login(UserFactory())
        post_review(client, product, rating=str(rating))
    return list(Review.objects.order_by("pk"))


def test_admin_approve_updates_the_rating_summary_shown_on_the_page(client, admin_client, product):
    reviews = write_reviews(client, product, [5, 4, 2])
    response = moderate(admin_client, "approve", reviews[:2])
    assert "2 reviews approved." in response.content.decode()
    assert summary(product) == (2, 9, pytest.approx(4.5))
    assert {r.status for r in Review.objects.filter(pk__in=[reviews[0].pk, reviews[1].pk])} == {"approved"}
    assert Review.objects.get(pk=reviews[2].pk).status == "pending"
    assert "4.5 out of 5" in client.get(f"/products/{product.slug}/").content.decode()


def test_admin_reject_after_approve_takes_the_review_out_of_the_summary(client, admin_client, product):
    reviews = write_reviews(client, product, [5, 3])
    moderate(admin_client, "approve", reviews)
    assert summary(product)[:2] == (2, 8)
    moderate(admin_client, "reject", reviews[:1])
    assert summary(product)[:2] == (1, 3)
    assert Review.objects.get(pk=reviews[0].pk).status == "rejected"
    moderate(admin_client, "reject", reviews[:1])  # rejecting again changes nothing
    assert summary(product)[:2] == (1, 3)


def test_admin_approve_twice_counts_once(client, admin_client, product):
    reviews = write_reviews(client, product, [4])
    moderate(admin_client, "approve", reviews)
    response = moderate(admin_client, "approve", reviews)
    assert "0 reviews approved (1 already approved)." in response.content.decode()
    assert summary(product)[:2] == (1, 4)


def test_admin_cannot_edit_or_delete_a_review(client, admin_client, product):
    review = write_reviews(client, product, [4])[0]
    response = admin_client.post(f"/admin/catalog/review/{review.pk}/change/", {"rating": "1", "status": "approved"})
    assert response.status_code == 403
    assert admin_client.post(f"/admin/catalog/review/{review.pk}/delete/", {"post": "yes"}).status_code == 403
    review.refresh_from_db()
    assert (review.rating, review.status) == (4, "pending")
    assert admin_client.get(f"/admin/catalog/review/{review.pk}/change/").status_code == 200  # read-only view
    changelist = admin_client.get("/admin/catalog/review/?status__exact=pending").content.decode()
    assert "Approve selected reviews" in changelist and "Delete selected" not in changelist
