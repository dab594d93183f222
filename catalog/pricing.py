"""Tiered per-unit pricing. Pure functions over (minimum quantity, unit price) pairs.

A tier applies from its minimum quantity up to the next tier's minimum minus one; the whole
quantity is charged at the unit price of the tier it falls in (not blended across tiers).
Money is Decimal, rounded half-up to the cent only for the line total; ``to_cents`` and
``from_cents`` are the one conversion to and from Stripe's integer cents.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, localcontext

CENT = Decimal("0.01")


class InvalidTiers(ValueError):
    """The tiers do not form a valid price schedule."""


class InvalidQuantity(ValueError):
    """The quantity is not a positive whole number."""


@dataclass(frozen=True, slots=True)
class Tier:
    min_quantity: int
    unit_price: Decimal


@dataclass(frozen=True, slots=True)
class Quote:
    quantity: int
    unit_price: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class TierRange:
    min_quantity: int
    max_quantity: int | None  # None for the last, open-ended tier
    unit_price: Decimal


def validate_tiers(tiers: Iterable[Tier]) -> list[Tier]:
    """Return the tiers sorted by minimum quantity, or raise InvalidTiers naming the problem.

    Rules: at least one tier; the first starts at quantity 1; minimum quantities are positive
    and unique (so tiers never overlap); unit prices are positive Decimals.
    """
    ordered = sorted(tiers, key=lambda t: t.min_quantity)
    if not ordered:
        raise InvalidTiers("A product needs at least one price tier.")
    seen = set()
    for tier in ordered:
        if not isinstance(tier.min_quantity, int) or tier.min_quantity < 1:
            raise InvalidTiers(f"Minimum quantity {tier.min_quantity!r} must be a positive integer.")
        if tier.min_quantity in seen:
            raise InvalidTiers(f"Two tiers start at quantity {tier.min_quantity}.")
        seen.add(tier.min_quantity)
        if not isinstance(tier.unit_price, Decimal) or tier.unit_price <= 0:
            raise InvalidTiers(f"Unit price {tier.unit_price!r} must be a positive Decimal.")
    if ordered[0].min_quantity != 1:
        raise InvalidTiers("The first tier must start at quantity 1 so every quantity has a price.")
    return ordered


def tier_for(tiers: Sequence[Tier], quantity: int) -> Tier:
    """Return the tier whose range holds ``quantity``. ``tiers`` must be valid."""
    if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1:
        raise InvalidQuantity("Quantity must be a positive whole number.")
    chosen = None
    for tier in sorted(tiers, key=lambda t: t.min_quantity):
        if tier.min_quantity <= quantity:
            chosen = tier
        else:
            break
    if chosen is None:
        raise InvalidTiers("No tier covers this quantity.")
    return chosen


def tier_ranges(tiers: Iterable[Tier]) -> list[TierRange]:
    """Return the tiers by minimum quantity, each with the last quantity it covers (the next tier's minimum - 1)."""
    ordered = sorted(tiers, key=lambda t: t.min_quantity)
    return [
        TierRange(tier.min_quantity, ordered[i + 1].min_quantity - 1 if i + 1 < len(ordered) else None, tier.unit_price)
        for i, tier in enumerate(ordered)
    ]


def quote(tiers: Sequence[Tier], quantity: int) -> Quote:
    """Return the unit price and the line total for ``quantity`` units."""
    tier = tier_for(tiers, quantity)
    with localcontext() as ctx:
        # Exact whatever the quantity: the default 28 digits would round a huge product
        # silently and make quantize() raise.
        ctx.prec = max(ctx.prec, len(str(quantity)) + len(tier.unit_price.as_tuple().digits) + 4)
        total = (tier.unit_price * quantity).quantize(CENT, rounding=ROUND_HALF_UP)
    return Quote(quantity=quantity, unit_price=tier.unit_price, total=total)


def to_cents(amount: Decimal) -> int:
    """Convert a Decimal amount of money to integer cents (for Stripe)."""
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, amount.adjusted() + 6)
        return int((amount.quantize(CENT, rounding=ROUND_HALF_UP) * 100).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Convert integer cents (Stripe's amounts) to a Decimal amount of money with two places."""
    return (Decimal(cents) / 100).quantize(CENT)
