"""Read queries shared by the storefront pages and the API, with their joins decided once."""

from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from catalog.models import PriceTier
from catalog.services.quotes import product_quote
from catalog.services.stock import stock_available
from core.errors import DomainError

from .access import orders_visible_to
from .models import Cart, CartLine, Order, OrderEvent, OrderLine, Payment, Refund


@dataclass(frozen=True)
class PricedLine:
    line: CartLine
    unit_price: Decimal | None
    line_total: Decimal | None
    available: int

    @property
    def product(self):
        return self.line.product


@dataclass(frozen=True)
class PricedCart:
    cart: Cart | None
    lines: list[PricedLine]
    subtotal: Decimal
    quantity: int
    currency: str


def cart_priced(cart: Cart | None) -> PricedCart:
    """The cart's lines priced by their products' current tiers (``catalog.services.quotes``), with
    availability (three queries)."""
    currency = settings.STRIPE_CURRENCY
    if cart is None or cart.pk is None:
        return PricedCart(cart=cart, lines=[], subtotal=Decimal("0.00"), quantity=0, currency=currency)
    lines = list(
        CartLine.objects.filter(cart=cart)
        .select_related("product")
        .prefetch_related(Prefetch("product__price_tiers", queryset=PriceTier.objects.order_by("min_quantity")))
        .order_by("added_at", "id")
    )
    available = stock_available(product_ids=[line.product_id for line in lines])
    priced = []
    for line in lines:
        try:
            quote = product_quote(product=line.product, quantity=line.quantity, with_availability=False)
            unit, total = quote.unit_price, quote.total
        except DomainError:  # no valid price schedule: shown without a price, refused at checkout
            unit = total = None
        priced.append(PricedLine(line=line, unit_price=unit, line_total=total, available=available[line.product_id]))
    subtotal = sum((p.line_total for p in priced if p.line_total is not None), Decimal("0.00"))
    return PricedCart(
        cart=cart, lines=priced, subtotal=subtotal, quantity=sum(line.quantity for line in lines), currency=currency
    )


def orders_for_user(user) -> QuerySet[Order]:
    """The user's orders (``shop.access``), newest first, with lines (list pages need no more)."""
    return (
        orders_visible_to(user)
        # Each line's prescription link comes with it: a line's cover needs it (no query per line).
        .prefetch_related(
            Prefetch(
                "lines", queryset=OrderLine.objects.select_related("prescription_link__prescription").order_by("id")
            )
        )
        .order_by("-created_at", "-id")
    )


def order_detail_for_user(user) -> QuerySet[Order]:
    """``orders_for_user`` plus events, payments and refunds: a fixed number of queries per order."""
    return orders_for_user(user).prefetch_related(
        Prefetch("events", queryset=OrderEvent.objects.order_by("created_at", "id")),
        Prefetch("payments", queryset=Payment.objects.order_by("attempt")),
        Prefetch("refunds", queryset=Refund.objects.order_by("created_at", "id")),
    )
