"""The product page's review form: a review is saved pending moderation (``catalog.services.reviews``);
a form with errors shows the product page again with them. A thin view."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError

from .. import selectors
from ..forms import ReviewForm
from ..services.reviews import review_create as review_create_service
from .products import product_page_context


@require_POST
@login_required
def review_create(request, slug):
    """Accept a review from the product page; it waits for moderation before it is shown."""
    product = get_object_or_404(selectors.product_detail(), slug=slug)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Your review was not saved. Please correct the fields marked below.")
        context = product_page_context(request, product, review_form=form)
        return render(request, "catalog/product_detail.html", context, status=400)
    try:
        review_create_service(product=product, user=request.user, **form.cleaned_data)
    except DomainError as exc:
        messages.error(request, f"Your review was not saved: {exc.message}")
    else:
        messages.success(request, "Thank you! Your review will appear here once our team has approved it.")
    return redirect(f"{product.get_absolute_url()}#reviews")
