"""The product page: drug facts, monograph, prices (``catalog.services.quotes``), stock, and its
approved reviews a page at a time. A thin view.

Reads go through ``catalog.selectors`` (joins decided once, so the number of queries does not
grow with the number of tiers, sections or reviews).
"""

from django.core.paginator import InvalidPage, Page, Paginator
from django.shortcuts import get_object_or_404, render

from .. import selectors
from ..forms import ReviewForm
from ..models import Review
from ..services.quotes import product_pricing

REVIEWS_PER_PAGE = 20


def product_detail(request, slug):
    product = get_object_or_404(selectors.product_detail(), slug=slug)
    return render(request, "catalog/product_detail.html", product_page_context(request, product))


def _reviews_page(product, number):
    """One page of the approved reviews, newest first (``?reviews_page=N``; 2 queries whatever the count).

    A missing, malformed or out-of-range number shows page 1 rather than an error.
    """
    reviews = selectors.approved_reviews(product)
    paginator = Paginator(reviews, REVIEWS_PER_PAGE)
    try:
        number = paginator.validate_number(number or 1)
    except InvalidPage:
        number = 1
    start = (number - 1) * REVIEWS_PER_PAGE
    # Sliced and read here (not clamped to the count) so the page costs the same queries with or without reviews.
    return Page(list(reviews[start : start + REVIEWS_PER_PAGE]), number, paginator)


def product_page_context(request, product, review_form=None) -> dict:
    """Everything the product page shows (``review_form``: a form with errors to show again)."""
    limits = next((r for r in product.drug.routes.all() if r.route == product.route), None)
    prices = product_pricing(product)
    available = product.stock_available
    reviews_page = _reviews_page(product, request.GET.get("reviews_page"))
    user_review = None
    if request.user.is_authenticated:
        user_review = Review.objects.filter(product=product, user=request.user).first()
    return {
        "product": product,
        "drug": product.drug,
        "route_limits": limits,
        "black_box_warning": limits.black_box_warning if limits else "",
        "sections": selectors.product_monograph(product),
        "available": available,
        "priced": prices.priced,
        "purchasable": prices.priced and available > 0,
        "first_quote": prices.first_quote,
        "tiers_data": [{"min_quantity": t.min_quantity, "unit_price": str(t.unit_price)} for t in prices.tiers],
        "reviews": reviews_page.object_list,
        "reviews_page": reviews_page,
        "user_review": user_review,
        "review_form": review_form or ReviewForm(),
    }
