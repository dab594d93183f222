"""The product filters, shared by the catalogue page and the products API."""

import django_filters
from django.db.models import F, OuterRef, Q, Subquery

from . import ndc as ndc_rules
from .models import PriceTier, Product, Route


class ProductFilter(django_filters.FilterSet):
    """Filter ``catalog.selectors.product_list()`` (which annotates ``stock_available``)."""

    search = django_filters.CharFilter(method="filter_search", label="Name, active ingredient or NDC")
    route = django_filters.ChoiceFilter(choices=Route.choices)
    dosage_form = django_filters.ChoiceFilter(choices=Product.DosageForm.choices)
    rx_required = django_filters.BooleanFilter(label="Prescription required")
    in_stock = django_filters.BooleanFilter(method="filter_in_stock", label="In stock")
    ordering = django_filters.OrderingFilter(
        fields=(("name", "name"), ("base_price", "price"), ("rating_avg", "rating")),
        label="Order by name, price or rating (prefix - for descending)",
    )

    class Meta:
        model = Product
        fields = ["search", "route", "dosage_form", "rx_required", "in_stock"]

    @property
    def qs(self):
        # Price (single-unit tier) and rating are annotated so ordering by them is one query.
        base = Subquery(
            PriceTier.objects.filter(product=OuterRef("pk")).order_by("min_quantity").values("unit_price")[:1]
        )
        self.queryset = self.queryset.annotate(
            base_price=base,
            rating_avg=F("rating_sum") * 1.0 / F("rating_count"),
        )
        return super().qs

    def filter_search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        query = Q(name__icontains=value) | Q(drug__active_ingredient__icontains=value) | Q(
            drug__name__icontains=value
        ) | Q(brand_name__icontains=value)
        digits = value.replace("-", "")
        if digits.isdigit():
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
