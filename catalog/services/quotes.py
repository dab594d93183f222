"""Price a quantity of a product: its tier price, the line total and whether stock covers it."""

from dataclasses import dataclass
from decimal import Decimal

from pharmacy.errors import Conflict, DomainError

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
    quantity_available: int

    @property
    def available(self) -> bool:
        return self.quantity <= self.quantity_available


def product_quote(*, product: Product, quantity: int) -> ProductQuote:
    """Return the tier price and total for ``quantity`` units and the units available now.

    Uses prefetched ``price_tiers`` and the ``stock_available`` annotation of
    ``catalog.selectors.product_list()`` when present (no query then).
    """
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(f"quantity: must be a whole number from 1 to {MAX_QUANTITY}.", code="invalid")
    try:
        tiers = pricing.validate_tiers(product.tiers())
    except pricing.InvalidTiers as exc:
        raise NoPrice(f"{product.name} has no valid price: {exc}") from exc
    line = pricing.quote(tiers, quantity)
    available = getattr(product, "stock_available", None)
    if available is None:
        available = stock_available(product_ids=[product.pk])[product.pk]
    return ProductQuote(
        quantity=quantity, unit_price=line.unit_price, total=line.total, quantity_available=available
    )
