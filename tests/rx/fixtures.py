"""Fixtures for the prescription tests: a small clinical catalogue (baclofen oral and
intrathecal with their route limits and interactions, morphine), and the cast of the
permission matrix (two shoppers, two clinics, a pharmacist, an admin) with their patients."""

from datetime import date
from decimal import Decimal
from types import SimpleNamespace

import pytest

from catalog.models import DrugInteraction, DrugRoute, Route
from rx.services.verification import pharmacist_group
from tests.catalog.factories import DrugFactory, ProductFactory
from tests.core.factories import UserFactory
from tests.rx.factories import ClinicFactory, ClinicMemberFactory, PatientFactory, PrescriberFactory


@pytest.fixture
def clinical(db):
    """Baclofen (oral max 80 mg/day, min 15 mg/day, from 12 years; intrathecal max 1000
    mcg/day, from 4 years), its interactions, and morphine (Schedule II CNS depressant)."""
    baclofen = DrugFactory(
        name="Baclofen",
        slug="baclofen",
        active_ingredient="baclofen",
        pregnancy_category="C",
        lactation_note="Distributed into milk after oral use.",
        interaction_groups=["cns_depressant"],
    )
    DrugRoute.objects.create(
        drug=baclofen,
        route=Route.ORAL,
        dose_unit="mg",
        max_daily_dose=Decimal("80"),
        min_daily_dose=Decimal("15"),
        min_age_years=12,
    )
    DrugRoute.objects.create(
        drug=baclofen, route=Route.INTRATHECAL, dose_unit="mcg", max_daily_dose=Decimal("1000"), min_age_years=4
    )
    DrugInteraction.objects.create(
        drug=baclofen,
        interacts_with="cns_depressant",
        code="AT",
        severity="high",
        message="Additive CNS depression with other CNS depressants.",
    )
    DrugInteraction.objects.create(
        drug=baclofen,
        route=Route.INTRATHECAL,
        interacts_with="morphine",
        interacting_route=Route.EPIDURAL,
        code="DD",
        severity="high",
        message="Intrathecal baclofen with epidural morphine: hypotension and dyspnea.",
    )
    morphine = DrugFactory(
        name="Morphine",
        slug="morphine",
        active_ingredient="morphine",
        dea_schedule="II",
        pregnancy_category="C",
        interaction_groups=["cns_depressant", "opioid"],
    )
    DrugRoute.objects.create(drug=morphine, route=Route.ORAL, dose_unit="mg", max_daily_dose=Decimal("200"))
    tablet = ProductFactory(
        drug=baclofen, name="Baclofen 10 mg tablet", slug="baclofen-10", ndc="00832102400", tiers=[]
    )
    generic_tablet = ProductFactory(
        drug=baclofen,
        name="Baclofen 10 mg tablet (other maker)",
        slug="baclofen-10b",
        ndc="00172409660",
        manufacturer="OTHER LABS",
        tiers=[],
    )
    vial = ProductFactory(
        drug=baclofen,
        name="Baclofen 40 mg/20 mL intrathecal",
        slug="baclofen-it",
        ndc="67457000020",
        strength=Decimal("2000"),
        strength_unit="mcg/mL",
        strength_text="40 mg/20 mL",
        concentration_mcg_per_ml=Decimal("2000"),
        volume_ml=Decimal("20"),
        dosage_form="injection",
        route=Route.INTRATHECAL,
        selling_unit="vial",
        tiers=[],
    )
    morphine_tablet = ProductFactory(
        drug=morphine,
        name="Morphine 15 mg tablet",
        slug="morphine-15",
        ndc="00054023525",
        strength=Decimal("15"),
        tiers=[],
    )
    return SimpleNamespace(
        baclofen=baclofen,
        morphine=morphine,
        tablet=tablet,
        generic_tablet=generic_tablet,
        vial=vial,
        morphine_tablet=morphine_tablet,
    )


@pytest.fixture
def cast(db):
    """Two shoppers with a patient each, two clinics with a member and a patient each, a
    pharmacist (staff, Pharmacist group) and a superuser."""
    shopper_a, shopper_b = UserFactory(username="shopper_a"), UserFactory(username="shopper_b")
    clinic_a, clinic_b = ClinicFactory(name="Clinic A"), ClinicFactory(name="Clinic B")
    clinician_a, clinician_b = UserFactory(username="clinician_a"), UserFactory(username="clinician_b")
    ClinicMemberFactory(clinic=clinic_a, user=clinician_a)
    ClinicMemberFactory(clinic=clinic_b, user=clinician_b)
    pharmacist = UserFactory(username="pharmacist", is_staff=True, first_name="Phil", last_name="Pharm")
    pharmacist.groups.add(pharmacist_group())
    admin = UserFactory(username="admin", is_staff=True, is_superuser=True)
    return SimpleNamespace(
        shopper_a=shopper_a,
        shopper_b=shopper_b,
        clinician_a=clinician_a,
        clinician_b=clinician_b,
        clinic_a=clinic_a,
        clinic_b=clinic_b,
        pharmacist=pharmacist,
        admin=admin,
        patient_a=PatientFactory(account=shopper_a, first_name="Ann", date_of_birth=date(1980, 1, 1)),
        patient_b=PatientFactory(account=shopper_b, first_name="Ben", date_of_birth=date(1975, 6, 1)),
        patient_ca=PatientFactory(account=None, clinic=clinic_a, first_name="Cora", date_of_birth=date(1990, 2, 2)),
        patient_cb=PatientFactory(account=None, clinic=clinic_b, first_name="Dan", date_of_birth=date(1985, 3, 3)),
    )


@pytest.fixture
def prescriber(db):
    return PrescriberFactory()


@pytest.fixture
def private_media(settings, tmp_path):
    """Keep uploaded test files in a temporary private directory; return its path."""
    storages = dict(settings.STORAGES)
    storages["default"] = {
        **storages["default"],
        "OPTIONS": {**storages["default"].get("OPTIONS", {}), "location": str(tmp_path / "private")},
    }
    settings.STORAGES = storages
    return tmp_path / "private"
