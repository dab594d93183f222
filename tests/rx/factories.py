"""factory_boy factories of rx: clinics, patients, prescribers, prescriptions.

ClinicFactory(), ClinicMemberFactory(clinic=..., user=...), PatientFactory() (a shopper's
patient; PatientFactory(account=None, clinic=clinic) for a clinic's), PrescriberFactory()
(valid NPI 1234567893 / DEA none), PrescriptionFactory(): an approved-ready oral prescription
built with rx.services (status received). Use rx.services.* for status changes.
"""

from datetime import date
from decimal import Decimal

import factory
from django.utils import timezone

from catalog.models import Route
from rx.models import Clinic, ClinicMembership, Patient, Prescriber, Prescription
from tests.catalog.factories import ProductFactory
from tests.core.factories import UserFactory


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
