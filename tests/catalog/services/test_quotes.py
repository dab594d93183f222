"""The one pricing entry point (catalog.services.quotes): a product's schedule validated once, then
every price question (priced? which tiers? this quantity? one unit?) answered from it."""

from decimal import Decimal

import pytest

from catalog import pricing
from catalog.models import Product
from catalog.selectors import product_list
from catalog.services.quotes import NoPrice, product_pricing, product_quote
from core.errors import DomainError
from tests.catalog.factories import ProductFactory

pytestmark = pytest.mark.django_db

GAP_AT_ONE = "The first tier must start at quantity 1 so every quantity has a price."


def test_a_valid_schedule_is_priced_and_quoted_at_the_tier_of_the_quantity():
    prices = product_pricing(ProductFactory())
    assert prices.priced
    assert (
        prices.tiers
        == prices.schedule
        == (pricing.Tier(1, Decimal("2.48")), pricing.Tier(30, Decimal("2.31")), pricing.Tier(90, Decimal("0.17")))
    )
    assert prices.first_quote == pricing.Quote(quantity=1, unit_price=Decimal("2.48"), total=Decimal("2.48"))
    assert prices.quote(89) == pricing.Quote(quantity=89, unit_price=Decimal("2.31"), total=Decimal("205.59"))
    assert prices.ranges == [
        pricing.TierRange(1, 29, Decimal("2.48")),
        pricing.TierRange(30, 89, Decimal("2.31")),
        pricing.TierRange(90, None, Decimal("0.17")),
    ]
    assert prices.lowest_unit_price == Decimal("0.17")


def test_a_schedule_with_a_gap_at_one_is_listed_but_not_priced_and_says_why():
    product = ProductFactory(name="Gapped", tiers=[(10, "0.45")])
    prices = product_pricing(product)
    assert not prices.priced
    assert prices.tiers == ()
    assert prices.schedule == (pricing.Tier(10, Decimal("0.45")),)
    assert prices.ranges == [pricing.TierRange(10, None, Decimal("0.45"))]
    assert prices.first_quote is None
    with pytest.raises(NoPrice) as refused:
        prices.quote(20)  # a tier covers 20, but the schedule is not a valid one
    assert refused.value.message == f"Gapped has no valid price: {GAP_AT_ONE}"
    assert (refused.value.status_code, refused.value.code) == (409, "no_price_tiers")


def test_a_product_without_tiers_is_not_priced():
    prices = product_pricing(ProductFactory(tiers=[]))
    assert (prices.priced, prices.schedule, prices.first_quote, prices.lowest_unit_price) == (False, (), None, None)
    assert prices.problem == "A product needs at least one price tier."


@pytest.mark.parametrize("quantity", [0, -1, 2_147_483_648, True, 1.5, "3"])
def test_a_quantity_out_of_range_is_a_400_checked_before_the_price(quantity):
    with pytest.raises(DomainError) as refused:
        product_pricing(ProductFactory(tiers=[])).quote(quantity)
    assert not isinstance(refused.value, NoPrice)
    assert refused.value.message == "quantity: must be a whole number from 1 to 2147483647."


def test_quote_adds_the_units_available_only_when_asked():
    product = Product.objects.get(pk=ProductFactory(stock=40).pk)
    quote = product_quote(product=product, quantity=30)
    assert (quote.unit_price, quote.total, quote.quantity_available, quote.available) == (
        Decimal("2.31"),
        Decimal("69.30"),
        40,
        True,
    )
    assert not product_quote(product=product, quantity=41).available
    unasked = product_quote(product=product, quantity=30, with_availability=False)
    assert (unasked.quantity_available, unasked.available) == (None, False)


def test_a_product_from_the_selector_is_priced_and_quoted_without_a_query(django_assert_num_queries):
    ProductFactory(stock=5)
    product = list(product_list())[0]
    with django_assert_num_queries(0):
        assert product_pricing(product).quote(3).total == Decimal("7.44")
        quote = product_quote(product=product, quantity=6)
    assert (quote.quantity_available, quote.available) == (5, False)
