"""The product filters, shared by the catalogue page and the products API.

Interface (kept stable for the storefront): ``ProductFilter(data, queryset=selectors.product_list())``
with the parameters ``search``, ``route``, ``dosage_form``, ``rx_required``, ``in_stock`` and
``ordering`` (``name``, ``price``, ``rating``, each with a ``-`` prefix for descending).
Invalid values are reported in ``filterset.errors`` and ignored by ``filterset.qs``; the API
turns them into a 400 naming the parameter.
"""

import django_filters
from django.db.models import ExpressionWrapper, F, FloatField, OuterRef, Q, Subquery
from django.db.models.functions import Cast, NullIf
from django_filters.widgets import BooleanWidget

from . import ndc as ndc_rules
from .models import PriceTier, Product, Route


def with_sort_keys(queryset):
    """Annotate ``base_price`` (the single-unit tier's price) and ``rating_avg`` for ordering.

    Both are NULL when unknown (no price tier; no approved review) and sort last either way.
    """
    base_price = Subquery(
        PriceTier.objects.filter(product=OuterRef("pk")).order_by("min_quantity").values("unit_price")[:1]
    )
    # rating_count is 0 for an unrated product: NULLIF turns the division into NULL, not an error.
    rating_avg = ExpressionWrapper(
        Cast("rating_sum", FloatField()) / NullIf(Cast("rating_count", FloatField()), 0.0), output_field=FloatField()
    )
    return queryset.annotate(base_price=base_price, rating_avg=rating_avg)


class ProductOrderingFilter(django_filters.OrderingFilter):
    """Order with unknown prices and ratings last in both directions, then by name and id.

    The trailing name and id make the order total, so pages of a paginated list never
    overlap or skip a product whose price or rating ties with another's.
    """

    def filter(self, qs, value):
        if value in django_filters.constants.EMPTY_VALUES:
            return qs
        ordering = []
        for param in value:
            if param in django_filters.constants.EMPTY_VALUES:
                continue
            field = self.get_ordering_value(param)
            descending = field.startswith("-")
            expression = F(field.lstrip("-"))
            ordering.append(expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True))
        return qs.order_by(*ordering, "name", "pk")


# The ``ordering`` values the products list accepts (a 400 names them for any other value).
ORDERING_VALUES = ("name", "-name", "price", "-price", "rating", "-rating")


class ProductFilter(django_filters.FilterSet):
    """Filter ``catalog.selectors.product_list()`` (which annotates ``stock_available``)."""

    search = django_filters.CharFilter(method="filter_search", label="Name, active ingredient or NDC")
    route = django_filters.ChoiceFilter(choices=Route.choices)
    dosage_form = django_filters.ChoiceFilter(choices=Product.DosageForm.choices)
    # BooleanWidget reads true/false/1/0 in any case (the default widget ignores 1 and 0).
    rx_required = django_filters.BooleanFilter(label="Prescription required", widget=BooleanWidget)
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label="In stock", widget=BooleanWidget)
    ordering = ProductOrderingFilter(
        fields=(("name", "name"), ("base_price", "price"), ("rating_avg", "rating")),
        label="Order by name, price or rating (prefix - for descending)",
        error_messages={
            "invalid_choice": "Unknown ordering %(value)s; choose one of: " + ", ".join(ORDERING_VALUES) + "."
        },
    )

    class Meta:
        model = Product
        fields = ["search", "route", "dosage_form", "rx_required", "in_stock"]

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        # Annotated once here (not in ``qs``) so reading ``qs`` twice never annotates twice.
        self.queryset = with_sort_keys(self.queryset)

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = (
            Q(name__icontains=value)
            | Q(drug__active_ingredient__icontains=value)
            | Q(drug__name__icontains=value)
            | Q(brand_name__icontains=value)
        )
        digits = value.replace("-", "")
        if digits.isascii() and digits.isdigit():
            query |= Q(ndc__contains=digits)
            try:
                query |= Q(ndc=ndc_rules.normalize_ndc(value))
            except ndc_rules.InvalidNDC:
                pass
        return queryset.filter(query)

    def filter_in_stock(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(stock_available__gt=0) if value else queryset.filter(stock_available__lte=0)
