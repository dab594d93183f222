"""Review rules: one review per user per product, moderation, the kept rating summary.

The rating summary (``Product.rating_count`` and ``rating_sum``) counts approved reviews
only and is updated here, when a review enters or leaves the approved state, so a page
view never aggregates.
"""

from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from core.errors import Conflict, DomainError
from core.extensions import hooks

from ..models import Product, Review

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class DuplicateReview(Conflict):
    code = "duplicate_review"


def review_create(*, product: Product, user: "User", rating: int, title: str, body: str) -> Review:
    """Create a pending review, or refuse a second review of the same product by the same user."""
    if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
        raise DomainError("rating: must be a whole number from 1 to 5.", code="invalid")
    if Review.objects.filter(product=product, user=user).exists():
        raise DuplicateReview("You have already reviewed this product; each customer may review it once.")
    try:
        with transaction.atomic():
            return Review.objects.create(
                product=product,
                user=user,
                rating=rating,
                title=title.strip(),
                body=body.strip(),
                verified_purchase=user_has_purchased(user_id=user.pk, product_id=product.pk),
            )
    except IntegrityError as exc:  # two submissions racing: the unique constraint decides
        raise DuplicateReview("You have already reviewed this product; each customer may review it once.") from exc


def review_moderate(*, reviews: Iterable[Review], status: str, moderator: "User") -> int:
    """Set the moderation status of ``reviews``; keep each product's rating summary in step.

    Returns how many reviews changed status.
    """
    if status not in Review.Status.values:
        raise DomainError(f"Unknown review status {status!r}.")
    ids = [r.pk for r in reviews]
    changed = 0
    with transaction.atomic():
        rows = list(Review.objects.select_for_update().filter(pk__in=ids).order_by("pk"))
        deltas: dict[int, tuple[int, int]] = {}
        for review in rows:
            if review.status == status:
                continue
            sign = 0
            if status == Review.Status.APPROVED:
                sign = 1
            elif review.status == Review.Status.APPROVED:
                sign = -1
            if sign:
                count, total = deltas.get(review.product_id, (0, 0))
                deltas[review.product_id] = (count + sign, total + sign * review.rating)
            review.status = status
            review.moderated_by = moderator
            review.moderated_at = timezone.now()
            review.save(update_fields=["status", "moderated_by", "moderated_at"])
            changed += 1
        for product_id in sorted(deltas):
            count, total = deltas[product_id]
            Product.objects.filter(pk=product_id).update(
                rating_count=F("rating_count") + count, rating_sum=F("rating_sum") + total
            )
    return changed


def reviews_mark_verified_purchase(*, user_id: int, product_ids: Iterable[int]) -> int:
    """Hook for the shop: the user received these products, so their reviews are verified purchases."""
    return Review.objects.filter(user_id=user_id, product_id__in=list(product_ids)).update(verified_purchase=True)


def user_has_purchased(*, user_id: int, product_id: int) -> bool:
    """Whether a delivered order of the user held the product.

    The shop answers through the ``CATALOG_PURCHASE_CHECKERS`` extension point (catalog never imports it).
    """
    return any(checker(user_id=user_id, product_id=product_id) for checker in hooks("CATALOG_PURCHASE_CHECKERS"))
