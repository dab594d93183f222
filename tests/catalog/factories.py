"""factory_boy factories of the catalog: drugs, route limits, products with tiers and stock, reviews.

Keep each factory small: it builds one valid row with plain defaults, and tests say what
matters to them through keyword arguments. Each app's factories live in tests/<app>/factories.py.

Quick reference:

- ``DrugFactory()``: a non-controlled drug (baclofen-like facts), unique name/slug.
- ``DrugRouteFactory(drug=..., route="oral")``: clinical limits of a drug for one route.
- ``ProductFactory()``: an active oral tablet with the seed's three price tiers
  (1+ $2.48, 30+ $2.31, 90+ $0.17) and no stock. Options:
  ``ProductFactory(tiers=[(1, "5.00"), (10, "4.00")])`` for other tiers, ``tiers=[]`` for none;
  ``ProductFactory(stock=25)`` adds one unexpired lot of 25 units.
- ``PriceTierFactory(product=..., min_quantity=..., unit_price=...)``.
- ``StockLotFactory(product=..., quantity=...)``: an unexpired lot (on hand = received = quantity).
- ``ReviewFactory(product=..., status=Review.Status.APPROVED)``: a review row written directly,
  bypassing moderation, so it does NOT update the product's rating summary. Use
  ``catalog.services.reviews.review_moderate`` when the summary matters.
"""

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Drug, DrugRoute, PriceTier, Product, Review, Route, StockLot
from tests.core.factories import UserFactory

# The seed page's tiers for baclofen 10 mg tablets: (minimum quantity, unit price).
SEED_TIERS = [(1, "2.48"), (30, "2.31"), (90, "0.17")]


class DrugFactory(factory.django.DjangoModelFactory):
    """A non-controlled active ingredient with baclofen-like facts."""

    class Meta:
        model = Drug

    name = factory.Sequence(lambda n: f"Drugamine {n}")
    slug = factory.LazyAttribute(lambda d: d.name.lower().replace(" ", "-"))
    active_ingredient = factory.LazyAttribute(lambda d: d.name.lower())
    drug_class = "Skeletal muscle relaxant"
    pharmacologic_class = "GABA-B agonist"
    pregnancy_category = "C"
    fda_approved = date(1977, 11, 1)
    dea_schedule = ""
    interaction_groups = factory.LazyFunction(lambda: ["cns_depressant"])


class DrugRouteFactory(factory.django.DjangoModelFactory):
    """Clinical limits of ``drug`` for one route (oral, mg, 80 mg/day, from 12 years by default)."""

    class Meta:
        model = DrugRoute
        django_get_or_create = ("drug", "route")

    drug = factory.SubFactory(DrugFactory)
    route = Route.ORAL
    dose_unit = "mg"
    max_daily_dose = Decimal("80")
    min_daily_dose = None
    min_age_years = 12
    black_box_warning = ""


class PriceTierFactory(factory.django.DjangoModelFactory):
    """One price break: from ``min_quantity`` units on, each costs ``unit_price``."""

    class Meta:
        model = PriceTier

    product = factory.SubFactory("tests.catalog.factories.ProductFactory", tiers=[])
    min_quantity = 1
    unit_price = Decimal("2.48")


class StockLotFactory(factory.django.DjangoModelFactory):
    """An unexpired lot. Pass ``quantity`` (default 100); on hand equals received."""

    class Meta:
        model = StockLot
        exclude = ("quantity",)

    product = factory.SubFactory("tests.catalog.factories.ProductFactory")
    lot_number = factory.Sequence(lambda n: f"LOT{n:05d}")
    expiry_date = factory.LazyFunction(lambda: timezone.localdate() + timedelta(days=365))
    quantity = 100
    quantity_received = factory.SelfAttribute("quantity")
    quantity_on_hand = factory.SelfAttribute("quantity")


class ProductFactory(factory.django.DjangoModelFactory):
    """An active oral baclofen-like tablet with the seed's price tiers and no stock.

    ``tiers``: list of (min_quantity, unit_price) pairs, default ``SEED_TIERS``; ``[]`` for none.
    ``stock``: units in one unexpired lot (default 0: no lot).
    """

    class Meta:
        model = Product
        skip_postgeneration_save = True

    drug = factory.SubFactory(DrugFactory)
    name = factory.Sequence(lambda n: f"Drugamine {n} 10 mg tablet")
    slug = factory.Sequence(lambda n: f"drugamine-{n}-10-mg-tablet")
    ndc = factory.Sequence(lambda n: f"{99000 + n // 10000:05d}{n % 10000:04d}01")
    manufacturer = "UPSHER SMITH LA"
    is_generic = True
    strength = Decimal("10")
    strength_unit = "mg"
    strength_text = "10 mg"
    dosage_form = Product.DosageForm.TABLET
    route = Route.ORAL
    selling_unit = Product.SellingUnit.TABLET
    pack_size = 1
    rx_required = True

    @factory.post_generation
    def tiers(obj, create, extracted, **kwargs):  # noqa: N805 (factory_boy signature)
        if not create:
            return
        pairs = SEED_TIERS if extracted is None else extracted
        for min_quantity, unit_price in pairs:
            PriceTier.objects.create(product=obj, min_quantity=min_quantity, unit_price=Decimal(str(unit_price)))

    @factory.post_generation
    def stock(obj, create, extracted, **kwargs):  # noqa: N805 (factory_boy signature)
        if create and extracted:
            StockLotFactory(product=obj, quantity=extracted)


class ReviewFactory(factory.django.DjangoModelFactory):
    """A pending review written directly (the product's rating summary is not touched)."""

    class Meta:
        model = Review

    product = factory.SubFactory(ProductFactory)
    user = factory.SubFactory(UserFactory)
    rating = 4
    title = "Works as expected"
    body = "Arrived quickly and well packed."
    status = Review.Status.PENDING
