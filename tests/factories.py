"""factory_boy factories shared by the whole test suite.

Keep each factory small: it builds one valid row with plain defaults, and tests say what
matters to them through keyword arguments. Add your app's factories below the existing ones
(one section per app, in dependency order: catalog, rx, shop).

Quick reference (catalog):

- ``UserFactory(username=..., password="...")``: the password is hashed; the raw one is
  ``DEFAULT_PASSWORD`` unless given. ``UserFactory(is_staff=True)`` for staff.
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
from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Drug, DrugRoute, PriceTier, Product, Review, Route, StockLot

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"

# The seed page's tiers for baclofen 10 mg tablets: (minimum quantity, unit price).
SEED_TIERS = [(1, "2.48"), (30, "2.31"), (90, "0.17")]


class UserFactory(factory.django.DjangoModelFactory):
    """A customer account. ``password`` is the raw password (default DEFAULT_PASSWORD)."""

    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    password = factory.django.Password(DEFAULT_PASSWORD)


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

    product = factory.SubFactory("tests.factories.ProductFactory", tiers=[])
    min_quantity = 1
    unit_price = Decimal("2.48")


class StockLotFactory(factory.django.DjangoModelFactory):
    """An unexpired lot. Pass ``quantity`` (default 100); on hand equals received."""

    class Meta:
        model = StockLot
        exclude = ("quantity",)

    product = factory.SubFactory("tests.factories.ProductFactory")
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


# --- rx: clinics, patients, prescribers, prescriptions ----------------------------------------
# ClinicFactory(), ClinicMemberFactory(clinic=..., user=...), PatientFactory() (a shopper's
# patient; PatientFactory(account=None, clinic=clinic) for a clinic's), PrescriberFactory()
# (valid NPI 1234567893 / DEA none), PrescriptionFactory(): an approved-ready oral prescription
# built with rx.services (status received). Use rx.services.* for status changes.

from rx.models import Clinic, ClinicMembership, Patient, Prescriber, Prescription  # noqa: E402


class ClinicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Clinic

    name = factory.Sequence(lambda n: f"Spasticity Clinic {n}")
    email = factory.Sequence(lambda n: f"clinic{n}@example.com")


class ClinicMemberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ClinicMembership

    clinic = factory.SubFactory(ClinicFactory)
    user = factory.SubFactory(UserFactory)


class PatientFactory(factory.django.DjangoModelFactory):
    """A shopper's patient (account set, no clinic). Pass ``account=None, clinic=...`` for a clinic's."""

    class Meta:
        model = Patient

    account = factory.SubFactory(UserFactory)
    clinic = None
    first_name = factory.Sequence(lambda n: f"Pat{n}")
    last_name = "Example"
    date_of_birth = date(1980, 5, 17)
    sex = Patient.Sex.FEMALE


class PrescriberFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prescriber
        django_get_or_create = ("npi",)

    name = "Dr Ann Smith"
    practice = "Smith Neurology"
    npi = "1234567893"
    dea_number = ""


class PrescriptionFactory(factory.django.DjangoModelFactory):
    """A fully transcribed oral prescription (10 mg x 3/day, 90 tablets, 30 days, 2 refills),
    status received, written directly (no findings computed). The product's route limits are
    not created: add ``DrugRouteFactory(drug=rx.drug)`` when a test needs them."""

    class Meta:
        model = Prescription

    patient = factory.SubFactory(PatientFactory)
    prescriber = factory.SubFactory(PrescriberFactory)
    product = factory.SubFactory(ProductFactory, tiers=[])
    written_date = factory.LazyFunction(timezone.localdate)
    dose_amount = Decimal("10")
    dose_unit = "mg"
    route = Route.ORAL
    times_per_day = Decimal("3")
    quantity = 90
    refills_authorized = 2
    days_supply = 30
    source = Prescription.Source.CLINIC
