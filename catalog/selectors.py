"""Read queries shared by the storefront pages and the API, with their joins decided once.

Every function returns a queryset whose number of queries does not grow with the number of
products, tiers, lots or reviews.
"""

from django.db.models import Prefetch, QuerySet

from .models import DrugRoute, MonographSection, PriceTier, Product, Review
from .services.stock import with_availability


def product_list() -> QuerySet[Product]:
    """Active products with drug, price tiers and availability (``stock_available``)."""
    return with_availability(
        Product.objects.active()
        .select_related("drug")
        .prefetch_related(Prefetch("price_tiers", queryset=PriceTier.objects.order_by("min_quantity")))
    )


def product_detail() -> QuerySet[Product]:
    """``product_list`` plus the drug's route limits and the page's monograph sections.

    Sections written for every product of the drug (``product`` blank) are prefetched into
    ``drug.general_monograph``; ``product_monograph(product)`` merges both lists.
    """
    return product_list().prefetch_related(
        Prefetch("drug__routes", queryset=DrugRoute.objects.order_by("route")),
        Prefetch("monograph", queryset=MonographSection.objects.order_by("position", "id")),
        Prefetch(
            "drug__monograph",
            queryset=MonographSection.objects.filter(product__isnull=True).order_by("position", "id"),
            to_attr="general_monograph",
        ),
    )


def product_monograph(product: Product) -> list[MonographSection]:
    """The product page's sections plus the drug's general ones, by position (no query after
    ``product_detail``)."""
    general = getattr(product.drug, "general_monograph", None)
    if general is None:
        general = list(product.drug.monograph.filter(product__isnull=True))
    return sorted([*product.monograph.all(), *general], key=lambda s: (s.position, s.id))


def approved_reviews(product: Product) -> QuerySet[Review]:
    return product.reviews.filter(status=Review.Status.APPROVED).select_related("user")
