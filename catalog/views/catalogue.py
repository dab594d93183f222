"""The catalogue page: search, filters, ordering and pages over active products. A thin view.

The filters are the API's (``catalog.filters.ProductFilter``); the rows come from
``catalog.selectors.product_list`` (the number of queries does not grow with the products).
"""

from django.core.paginator import Paginator
from django.shortcuts import render

from .. import selectors
from ..filters import ProductFilter

PAGE_SIZE = 20


def product_list(request):
    """The catalogue: search, filters, ordering and pages over active products."""
    filterset = ProductFilter(request.GET or None, queryset=selectors.product_list())
    _label_filter_form(filterset.form)
    page = Paginator(filterset.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "catalog/product_list.html",
        {"filter": filterset, "page": page, "products": page.object_list, "query": query.urlencode()},
    )


ORDERING_LABELS = {
    "": "Default (name A–Z)",
    "name": "Name (A–Z)",
    "-name": "Name (Z–A)",
    "price": "Price: low to high",
    "-price": "Price: high to low",
    "rating": "Rating: low to high",
    "-rating": "Rating: high to low",
}


def _label_filter_form(form) -> None:
    """Friendlier option labels for the shared filter form (the API does not show them)."""
    for name in ("route", "dosage_form"):
        form.fields[name].choices = [("", "Any"), *[c for c in form.fields[name].choices if c[0] != ""]]
    for name in ("rx_required", "in_stock"):
        form.fields[name].widget.choices = [("", "Any"), ("true", "Yes"), ("false", "No")]
    ordering = form.fields["ordering"]
    ordering.choices = [(value, ORDERING_LABELS.get(value, label)) for value, label in ordering.choices]
