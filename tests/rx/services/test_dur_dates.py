"""DUR dates: post-dated prescriptions, early refill across prescriptions, the pharmacy's calendar
day (PHARMACY_TIME_ZONE, not UTC) for age, expiry and early refill, and the seed's renal caution
for intrathecal baclofen."""

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from catalog.models import Drug, Product
from rx.models import Finding, Prescription
from rx.services import coverage
from rx.services.dur import DurContext, dur_check
from tests.catalog.factories import DrugFactory, ProductFactory
from tests.rx.factories import PatientFactory
from tests.rx.prescription_helpers import approve, make_rx

pytestmark = pytest.mark.django_db

# 02:00 UTC on 10 March 2026 is 21:00 on 9 March in New York (EST, UTC-5).
EVENING = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def new_york(settings):
    settings.PHARMACY_TIME_ZONE = "America/New_York"


def codes(rx, **kwargs):
    return {f.code for f in dur_check(prescription=rx, **kwargs)}


def finding(rx, code, **kwargs):
    return next(f for f in dur_check(prescription=rx, **kwargs) if f.code == code)


def fill(rx, pharmacist, *, prepared_at, reference="t:1", days_supply=None):
    approve(rx, pharmacist)
    coverage.prescription_fill(
        prescription_id=rx.pk,
        quantity=rx.quantity,
        reference=reference,
        prepared_at=prepared_at,
        days_supply=days_supply,
        on=timezone.localdate(prepared_at),
    )


# --- post-dated ---------------------------------------------------------------------------------


def test_a_written_date_in_the_future_is_a_finding(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, written_date=timezone.localdate() + timedelta(days=3))
    f = finding(rx, "PD")
    assert f.severity == Finding.Severity.MODERATE and "future" in f.message
    assert f.data["written_date"] == rx.written_date.isoformat()


def test_a_post_dated_controlled_prescription_is_high(clinical, cast):
    rx = make_rx(
        cast.patient_a,
        clinical.morphine_tablet,
        dose_amount=Decimal("15"),
        refills_authorized=0,
        written_date=timezone.localdate() + timedelta(days=1),
    )
    f = finding(rx, "PD")
    assert f.severity == Finding.Severity.HIGH and "1306.05" in f.message


def test_a_prescription_written_today_is_not_post_dated(clinical, cast):
    assert "PD" not in codes(make_rx(cast.patient_a, clinical.tablet))


def test_post_dating_is_judged_on_the_pharmacys_day(clinical, cast):
    # Written "10 March" reaches the pharmacy at 21:00 on 9 March: written in the future there.
    rx = make_rx(cast.patient_a, clinical.tablet, written_date=date(2026, 3, 10))
    assert "PD" in codes(rx, context=DurContext(now=EVENING))
    assert "PD" not in codes(rx, context=DurContext(now=EVENING + timedelta(hours=5)))


# --- the pharmacy's day -------------------------------------------------------------------------


def test_age_is_counted_on_the_pharmacys_day_not_utcs(clinical, cast):
    # Turns 12 on 10 March: at 21:00 on 9 March in the pharmacy still 11, below the oral minimum.
    patient = PatientFactory(account=cast.shopper_a, date_of_birth=date(2014, 3, 10))
    rx = make_rx(patient, clinical.tablet, dose_amount=Decimal("5"), quantity=45, written_date=date(2026, 3, 1))
    assert finding(rx, "PA", context=DurContext(now=EVENING)).data["age"] == 11
    assert "PA" not in codes(rx, context=DurContext(now=EVENING + timedelta(hours=5)))


def test_expiry_is_judged_on_the_pharmacys_day(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, written_date=date(2025, 3, 1))
    Prescription.objects.filter(pk=rx.pk).update(expires_on=date(2026, 3, 9))
    rx.refresh_from_db()
    assert "XP" not in codes(rx, context=DurContext(now=EVENING))  # still 9 March in New York
    assert "XP" in codes(rx, context=DurContext(now=EVENING + timedelta(hours=5)))


def test_the_day_of_an_earlier_fill_is_the_pharmacys_day(clinical, cast):
    # Prepared at 21:00 on 9 March in New York (10 March in UTC), 4 days supply: 75 % is used up
    # 3 days later, on 12 March (not 13 March), so a refill on 12 March is not early.
    rx = make_rx(cast.patient_a, clinical.tablet, quantity=12, days_supply=4, written_date=date(2026, 3, 1))
    fill(rx, cast.pharmacist, prepared_at=EVENING, days_supply=4)
    noon_12_march = datetime(2026, 3, 12, 17, 0, tzinfo=UTC)
    assert "ER" not in codes(rx, context=DurContext(now=noon_12_march))
    assert "ER" in codes(rx, context=DurContext(now=noon_12_march - timedelta(days=1)))


# --- early refill across prescriptions ------------------------------------------------------------


def test_a_new_prescription_for_a_drug_still_held_is_an_early_refill(clinical, cast):
    first = make_rx(cast.patient_a, clinical.tablet)
    fill(first, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=10))
    second = make_rx(cast.patient_a, clinical.generic_tablet)
    f = finding(second, "ER")
    assert f.data["last_dispense"] == first.dispenses.get().pk and f"prescription {first.pk}" in f.message


def test_a_fill_from_an_expired_prescription_still_counts(clinical, cast):
    first = make_rx(cast.patient_a, clinical.tablet)
    fill(first, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=10))
    Prescription.objects.filter(pk=first.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    assert "ER" in codes(make_rx(cast.patient_a, clinical.tablet))


def test_a_supply_used_up_past_the_threshold_is_not_early(clinical, cast):
    first = make_rx(cast.patient_a, clinical.tablet)
    fill(first, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=23))  # 75 % of 30 = 22.5
    assert "ER" not in codes(make_rx(cast.patient_a, clinical.tablet))


def test_another_patients_or_another_drugs_fill_is_not_an_early_refill(clinical, cast):
    other_patient = make_rx(cast.patient_b, clinical.tablet)
    fill(other_patient, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=2))
    tizanidine = ProductFactory(drug=DrugFactory(name="Tizanidine", active_ingredient="tizanidine"), tiers=[])
    other_drug = make_rx(cast.patient_a, tizanidine)
    fill(other_drug, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=2), reference="t:2")
    assert "ER" not in codes(make_rx(cast.patient_a, clinical.tablet))


# --- seed data --------------------------------------------------------------------------------------


def test_intrathecal_baclofen_in_renal_impairment_is_flagged_with_the_seed_data(cast):
    call_command("load_seed_catalogue", stdout=StringIO())
    vial = Product.objects.get(drug=Drug.objects.get(name="Baclofen"), route="intrathecal")
    patient = PatientFactory(account=cast.shopper_a, renal_impairment="moderate")
    rx = make_rx(patient, vial, dose_amount=Decimal("300"), dose_unit="mcg", times_per_day=1, quantity=1)
    f = finding(rx, "RI")
    assert f.severity == Finding.Severity.MODERATE and "intrathecal" in f.message


def test_tablets_still_held_do_not_make_a_first_intrathecal_prescription_early(clinical, cast):
    # Oral and intrathecal baclofen together is a duplication (TD), not an early refill of the vial.
    first = make_rx(cast.patient_a, clinical.tablet)
    fill(first, cast.pharmacist, prepared_at=timezone.now() - timedelta(days=10))
    vial = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    assert "ER" not in codes(vial) and "TD" in codes(vial)
