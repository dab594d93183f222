"""Price a quantity of a product: its tier price, the line total and whether stock covers it."""

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

    The one way to price a product: the cart, checkout, refill kits, pages and the API all call it.
    Uses prefetched ``price_tiers`` and the ``stock_available`` annotation of
    ``catalog.selectors.product_list()`` when present (no query then). Raises DomainError (400) for
    a quantity out of range and NoPrice (409) when the product has no valid price schedule.
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(f"quantity: must be a whole number from 1 to {MAX_QUANTITY}.", code="invalid")
    try:
        tiers = pricing.validate_tiers(product.tiers())
    except pricing.InvalidTiers as exc:
        raise NoPrice(f"{product.name} has no valid price: {exc}") from exc
    line = pricing.quote(tiers, quantity)
    available = getattr(product, "stock_available", None)
    if available is None and with_availability:
        available = stock_available(product_ids=[product.pk])[product.pk]
    return ProductQuote(
        quantity=quantity, unit_price=line.unit_price, total=line.total, quantity_available=available
    )
