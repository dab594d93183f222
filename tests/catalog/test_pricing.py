"""Tier pricing arithmetic (catalog.pricing): pure, no database."""

from decimal import Decimal

import pytest

from catalog import pricing
from catalog.pricing import InvalidQuantity, InvalidTiers, Tier

# The seed page's schedule for baclofen 10 mg tablets.
SEED = [Tier(1, Decimal("2.48")), Tier(30, Decimal("2.31")), Tier(90, Decimal("0.17"))]


@pytest.mark.parametrize(
    ("quantity", "unit_price", "total"),
    [
        (1, "2.48", "2.48"),
        (29, "2.48", "71.92"),
        (30, "2.31", "69.30"),
        (89, "2.31", "205.59"),
        (90, "0.17", "15.30"),
        (1000, "0.17", "170.00"),
    ],
)
def test_whole_quantity_is_charged_at_the_price_of_the_tier_it_falls_in(quantity, unit_price, total):
    quote = pricing.quote(SEED, quantity)
    assert quote == pricing.Quote(quantity=quantity, unit_price=Decimal(unit_price), total=Decimal(total))
    assert isinstance(quote.total, Decimal)


def test_tier_boundaries_belong_to_the_tier_that_starts_there():
    assert pricing.tier_for(SEED, 29).min_quantity == 1
    assert pricing.tier_for(SEED, 30).min_quantity == 30
    assert pricing.tier_for(SEED, 89).min_quantity == 30
    assert pricing.tier_for(SEED, 90).min_quantity == 90


def test_tiers_given_out_of_order_price_the_same():
    assert pricing.quote(list(reversed(SEED)), 45) == pricing.quote(SEED, 45)


def test_huge_quantities_are_priced_exactly_without_rounding_the_product():
    assert pricing.quote(SEED, 2_147_483_647).total == Decimal("365072219.99")
    huge = 10**30 + 1
    assert pricing.quote(SEED, huge).total == Decimal("170000000000000000000000000000.17")


def test_line_total_rounds_half_up_to_the_cent():
    tiers = [Tier(1, Decimal("0.125"))]
    assert pricing.quote(tiers, 1).total == Decimal("0.13")
    assert pricing.quote(tiers, 3).total == Decimal("0.38")  # 0.375


@pytest.mark.parametrize("quantity", [0, -1, 2.0, "3", True, None, Decimal("1")])
def test_quantity_must_be_a_positive_whole_number(quantity):
    with pytest.raises(InvalidQuantity):
        pricing.quote(SEED, quantity)


def test_validate_tiers_returns_them_sorted():
    assert pricing.validate_tiers(reversed(SEED)) == SEED


@pytest.mark.parametrize(
    ("tiers", "message"),
    [
        ([], "at least one"),
        ([Tier(2, Decimal("1.00"))], "start at quantity 1"),
        ([Tier(1, Decimal("1.00")), Tier(1, Decimal("0.90"))], "Two tiers start at quantity 1"),
        ([Tier(0, Decimal("1.00"))], "positive integer"),
        ([Tier(1, Decimal("1.00")), Tier(-5, Decimal("0.50"))], "positive integer"),
        ([Tier(1, Decimal("0"))], "positive Decimal"),
        ([Tier(1, Decimal("-1.00"))], "positive Decimal"),
        ([Tier(1, 2.48)], "positive Decimal"),
        ([Tier(1.5, Decimal("1.00"))], "positive integer"),
    ],
)
def test_validate_tiers_refuses_an_invalid_schedule_and_says_why(tiers, message):
    with pytest.raises(InvalidTiers, match=message):
        pricing.validate_tiers(tiers)


def test_quote_without_any_tier_is_refused():
    with pytest.raises(InvalidTiers):
        pricing.quote([], 1)


@pytest.mark.parametrize(
    ("amount", "cents"),
    [
        ("0", 0),
        ("0.01", 1),
        ("2.48", 248),
        ("15.30", 1530),
        ("0.005", 1),
        ("0.004", 0),
        ("12.345", 1235),
        ("170000000000000000000000000000.17", 17000000000000000000000000000017),
    ],
)
def test_to_cents_converts_exactly_rounding_half_up(amount, cents):
    result = pricing.to_cents(Decimal(amount))
    assert result == cents
    assert isinstance(result, int)


def test_tier_ranges_end_each_tier_where_the_next_begins_and_leave_the_last_open():
    assert pricing.tier_ranges(list(reversed(SEED))) == [
        pricing.TierRange(1, 29, Decimal("2.48")),
        pricing.TierRange(30, 89, Decimal("2.31")),
        pricing.TierRange(90, None, Decimal("0.17")),
    ]
    assert pricing.tier_ranges([]) == []


@pytest.mark.parametrize(("cents", "amount"), [(0, "0.00"), (1, "0.01"), (248, "2.48"), (1530, "15.30")])
def test_from_cents_gives_two_places_and_round_trips_to_cents(cents, amount):
    result = pricing.from_cents(cents)
    assert str(result) == amount
    assert pricing.to_cents(result) == cents
