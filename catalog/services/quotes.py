"""Price a product: the one pricing entry point of the cart, checkout, refill kits, pages and the API.

In the spirit of django-oscar's ``Strategy.fetch_for_product``: ``product_pricing(product)`` reads the
product's price schedule once, validates it (``catalog.pricing.validate_tiers``) and answers every
price question about it (is it priced, the tiers to show, the price of a quantity, the one-unit
price); ``product_quote(product=, quantity=)`` adds whether the stock available now covers the
quantity. Nothing else reads ``price_tiers`` to price a product.
"""

from dataclasses import dataclass
from decimal import Decimal

from core.errors import Conflict, DomainError

from .. import pricing
from ..models import Product
from .stock import stock_available

# A quantity above this is refused as input: stock and order quantities are 32-bit columns.
MAX_QUANTITY = 2_147_483_647


class NoPrice(Conflict):
    """The product has no valid price schedule, so it cannot be quoted or sold."""

    code = "no_price_tiers"


@dataclass(frozen=True)
class ProductPricing:
    """How one product is priced. ``schedule`` is every stored tier by minimum quantity (what the
    pages and the API list); ``tiers`` is that schedule once validated, empty when it is not a valid
    one (no tier, a gap at quantity 1, ...: ``problem`` says why)."""

    product_name: str
    schedule: tuple[pricing.Tier, ...]
    tiers: tuple[pricing.Tier, ...]
    problem: str = ""

    @property
    def priced(self) -> bool:
        return bool(self.tiers)

    @property
    def ranges(self) -> list[pricing.TierRange]:
        """The stored tiers with the quantities each covers (the price table)."""
        return pricing.tier_ranges(self.schedule)

    @property
    def lowest_unit_price(self) -> Decimal | None:
        return min((t.unit_price for t in self.schedule), default=None)

    @property
    def first_quote(self) -> pricing.Quote | None:
        """The price of one unit, or None when the product is not priced."""
        return pricing.quote(self.tiers, 1) if self.tiers else None

    def quote(self, quantity: int) -> pricing.Quote:
        """The unit price and line total of ``quantity`` units.

        Raises DomainError (400) for a quantity out of range and NoPrice (409) when not priced.
        """
        if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
            raise DomainError(f"quantity: must be a whole number from 1 to {MAX_QUANTITY}.", code="invalid")
        if not self.tiers:
            raise NoPrice(f"{self.product_name} has no valid price: {self.problem}")
        return pricing.quote(self.tiers, quantity)


def product_pricing(product: Product) -> ProductPricing:
    """Return the pricing of ``product``; uses prefetched ``price_tiers`` when present (no query then)."""
    schedule = tuple(
        sorted(
            (pricing.Tier(t.min_quantity, t.unit_price) for t in product.price_tiers.all()),
            key=lambda t: t.min_quantity,
        )
    )
    try:
        tiers = tuple(pricing.validate_tiers(schedule))
    except pricing.InvalidTiers as exc:
        return ProductPricing(product_name=product.name, schedule=schedule, tiers=(), problem=str(exc))
    return ProductPricing(product_name=product.name, schedule=schedule, tiers=tiers)


@dataclass(frozen=True)
class ProductQuote:
    quantity: int
    unit_price: Decimal
    total: Decimal
    quantity_available: int | None  # None when the caller did not ask (``with_availability=False``)

    @property
    def available(self) -> bool:
        return self.quantity_available is not None and self.quantity <= self.quantity_available


def product_quote(*, product: Product, quantity: int, with_availability: bool = True) -> ProductQuote:
    """Return the tier price and total for ``quantity`` units and, if asked, the units available now.

    Uses prefetched ``price_tiers`` and the ``stock_available`` annotation of
    ``catalog.selectors.product_list()`` when present (no query then). Raises DomainError (400) for
    a quantity out of range and NoPrice (409) when the product has no valid price schedule.
    """
    line = product_pricing(product).quote(quantity)
    available = getattr(product, "stock_available", None)
    if available is None and with_availability:
        available = stock_available(product_ids=[product.pk])[product.pk]
    return ProductQuote(quantity=quantity, unit_price=line.unit_price, total=line.total, quantity_available=available)
