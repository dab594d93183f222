"""DUR checks: each fires on the data that should trigger it and stays quiet otherwise.

The limits come from the catalogue rows built in conftest (oral baclofen: 15-80 mg/day from 12
years; intrathecal: up to 1000 mcg/day from 4 years); nothing here relies on constants in code.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from dateutil.relativedelta import relativedelta
from django.utils import timezone

from catalog.models import DrugRoute
from rx.models import Finding, Prescriber, Prescription
from rx.services import coverage
from rx.services.dur import DurContext, dur_check
from rx.services.prescriptions import prescription_transition
from tests.catalog.factories import DrugFactory, ProductFactory
from tests.rx.factories import PatientFactory
from tests.rx.prescription_helpers import approve, make_rx

pytestmark = pytest.mark.django_db


def codes(rx, **kwargs):
    return {f.code for f in dur_check(prescription=rx, **kwargs)}


def finding(rx, code, **kwargs):
    return next(f for f in dur_check(prescription=rx, **kwargs) if f.code == code)


# --- dose range -------------------------------------------------------------------------------


def test_daily_dose_above_the_route_maximum_is_flagged_high(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"), times_per_day=3)
    f = finding(rx, "HD")
    assert f.severity == Finding.Severity.HIGH
    assert "90 mg" in f.message and "80 mg/day" in f.message


def test_daily_dose_at_the_route_maximum_is_not_flagged(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("20"), times_per_day=4, quantity=120)
    assert "HD" not in codes(rx)


def test_maximum_is_read_from_the_drug_data_not_from_code(clinical, cast):
    DrugRoute.objects.filter(drug=clinical.baclofen, route="oral").update(max_daily_dose=Decimal("60"))
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("20"), times_per_day=4, quantity=120)
    assert "60 mg/day" in finding(rx, "HD").message


def test_intrathecal_dose_is_compared_in_micrograms(clinical, cast):
    high = make_rx(
        cast.patient_a,
        clinical.vial,
        dose_amount=Decimal("1200"),
        dose_unit="mcg",
        times_per_day=1,
        quantity=1,
        days_supply=30,
    )
    assert "HD" in codes(high)
    # 0.25 mL/day of 2000 mcg/mL = 500 mcg/day.
    usual = make_rx(
        cast.patient_b,
        clinical.vial,
        dose_amount=Decimal("0.25"),
        dose_unit="mL",
        times_per_day=1,
        quantity=1,
        days_supply=60,
    )
    assert "HD" not in codes(usual)


def test_daily_dose_below_the_route_minimum_is_flagged(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("5"), times_per_day=2, quantity=60)
    assert finding(rx, "LD").severity == Finding.Severity.MODERATE


def test_starting_dose_is_not_below_the_minimum(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("5"), dose_unit="mg", quantity=45)
    assert "LD" not in codes(rx)


def test_dose_that_cannot_be_computed_is_reported_not_guessed(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("5"), dose_unit="mL")
    assert finding(rx, "DC").severity == Finding.Severity.LOW
    assert not {"HD", "LD"} & codes(rx)


# --- patient -------------------------------------------------------------------------------------


def years_ago(n):
    today = timezone.localdate()
    return today.replace(year=today.year - n) - timedelta(days=1)


def test_patient_younger_than_the_route_minimum_age_is_flagged(clinical, cast):
    child = PatientFactory(account=cast.shopper_a, date_of_birth=years_ago(10))
    rx = make_rx(child, clinical.tablet, dose_amount=Decimal("5"), quantity=45)
    f = finding(rx, "PA")
    assert f.severity == Finding.Severity.HIGH and "10 years" in f.message and "12" in f.message


def test_same_child_is_old_enough_for_the_intrathecal_route(clinical, cast):
    child = PatientFactory(account=cast.shopper_a, date_of_birth=years_ago(10))
    rx = make_rx(child, clinical.vial, dose_amount=Decimal("300"), dose_unit="mcg", times_per_day=1, quantity=1)
    assert "PA" not in codes(rx)


RENAL_CAUTION = "Reduce the dose in renal impairment; confirm with the prescriber."


def test_renal_impairment_is_flagged_when_the_route_has_renal_data(clinical, cast):
    DrugRoute.objects.filter(drug=clinical.baclofen, route="oral").update(renal_caution=RENAL_CAUTION)
    patient = PatientFactory(account=cast.shopper_a, renal_impairment="moderate")
    rx = make_rx(patient, clinical.tablet, dose_amount=Decimal("5"), quantity=45)
    f = finding(rx, "RI")
    assert f.severity == Finding.Severity.MODERATE
    assert "moderate renal impairment" in f.message and RENAL_CAUTION in f.message
    assert f.data["renal_impairment"] == "moderate"


def test_renal_maximum_exceeded_is_flagged_high(clinical, cast):
    DrugRoute.objects.filter(drug=clinical.baclofen, route="oral").update(renal_max_daily_dose=Decimal("30"))
    patient = PatientFactory(account=cast.shopper_a, renal_impairment="severe")
    over = make_rx(patient, clinical.tablet, dose_amount=Decimal("15"), quantity=135)
    f = finding(over, "RI")
    assert f.severity == Finding.Severity.HIGH and "45 mg" in f.message and "30 mg/day" in f.message
    within = make_rx(patient, clinical.tablet, dose_amount=Decimal("10"), quantity=90)
    assert finding(within, "RI").severity == Finding.Severity.MODERATE


def test_no_renal_finding_without_impairment_or_without_renal_data(clinical, cast):
    # Renal data on oral baclofen, but the patient's kidneys are fine or not recorded.
    DrugRoute.objects.filter(drug=clinical.baclofen, route="oral").update(renal_caution=RENAL_CAUTION)
    for status in ("none", "unknown"):
        patient = PatientFactory(account=cast.shopper_a, renal_impairment=status)
        assert "RI" not in codes(make_rx(patient, clinical.tablet, dose_amount=Decimal("5"), quantity=45))
    # Impaired patient, but the intrathecal route carries no renal data.
    impaired = PatientFactory(account=cast.shopper_a, renal_impairment="severe")
    rx = make_rx(impaired, clinical.vial, dose_amount=Decimal("300"), dose_unit="mcg", times_per_day=1, quantity=1)
    assert "RI" not in codes(rx)


def test_pregnancy_is_flagged_with_the_drug_category(clinical, cast):
    cast.patient_a.pregnancy_status = "yes"
    cast.patient_a.save()
    rx = make_rx(cast.patient_a, clinical.tablet)
    f = finding(rx, "PG")
    assert f.severity == Finding.Severity.MODERATE and "category C" in f.message


def test_no_pregnancy_finding_when_not_pregnant(clinical, cast):
    cast.patient_a.pregnancy_status = "no"
    cast.patient_a.save()
    assert "PG" not in codes(make_rx(cast.patient_a, clinical.tablet))


def test_lactation_is_flagged_with_the_drug_note(clinical, cast):
    cast.patient_a.is_lactating = True
    cast.patient_a.save()
    f = finding(make_rx(cast.patient_a, clinical.tablet), "NR")
    assert "Distributed into milk" in f.message


def test_no_lactation_finding_when_not_breastfeeding(clinical, cast):
    assert "NR" not in codes(make_rx(cast.patient_a, clinical.tablet))


def test_allergy_to_the_ingredient_is_flagged(clinical, cast):
    cast.patient_a.allergies = "penicillin\nBaclofen (rash)"
    cast.patient_a.save()
    assert finding(make_rx(cast.patient_a, clinical.tablet), "DA").severity == Finding.Severity.HIGH


def test_unrelated_allergy_is_not_flagged(clinical, cast):
    cast.patient_a.allergies = "penicillin"
    cast.patient_a.save()
    assert "DA" not in codes(make_rx(cast.patient_a, clinical.tablet))


# --- current medications ----------------------------------------------------------------------------


def test_cns_depressant_in_free_text_medications_is_an_additive_toxicity(clinical, cast):
    cast.patient_a.current_medications_text = "vitamin D\nmorphine 10 mg at night"
    cast.patient_a.save()
    f = finding(make_rx(cast.patient_a, clinical.tablet), "AT")
    assert f.severity == Finding.Severity.HIGH and "morphine 10 mg at night" in f.message


def test_cns_depressant_as_a_linked_product_is_an_additive_toxicity(clinical, cast):
    cast.patient_a.current_products.add(clinical.morphine_tablet)
    assert "AT" in codes(make_rx(cast.patient_a, clinical.tablet))


def test_interaction_group_named_in_free_text_is_matched(clinical, cast):
    cast.patient_a.current_medications_text = "some CNS depressant for sleep"
    cast.patient_a.save()
    assert "AT" in codes(make_rx(cast.patient_a, clinical.tablet))


def test_unrelated_medications_cause_no_interaction(clinical, cast):
    cast.patient_a.current_medications_text = "vitamin D, ibuprofen"
    cast.patient_a.save()
    assert not {"AT", "DD"} & codes(make_rx(cast.patient_a, clinical.tablet))


def test_epidural_morphine_with_intrathecal_baclofen_is_a_drug_interaction(clinical, cast):
    cast.patient_a.current_medications_text = "morphine epidural infusion"
    cast.patient_a.save()
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    f = finding(rx, "DD")
    assert f.severity == Finding.Severity.HIGH and "hypotension" in f.message


def test_oral_morphine_is_not_the_epidural_interaction(clinical, cast):
    cast.patient_a.current_medications_text = "morphine oral"
    cast.patient_a.save()
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    assert "DD" not in codes(rx)
    assert "AT" in codes(rx)  # still a CNS depressant


def test_oral_baclofen_taken_with_intrathecal_baclofen_is_a_duplication(clinical, cast):
    cast.patient_a.current_products.add(clinical.tablet)
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    f = finding(rx, "TD")
    assert "two routes" in f.message and "withdrawn" in f.message
    assert "AT" not in codes(rx)  # a drug does not interact with itself through its own group


def test_active_oral_prescription_duplicates_a_new_intrathecal_one(clinical, cast):
    make_rx(cast.patient_a, clinical.tablet)
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    assert "TD" in codes(rx)


def test_duplication_is_not_flagged_once_the_other_prescription_is_rejected(clinical, cast):
    other = make_rx(cast.patient_a, clinical.tablet)
    prescription_transition(prescription=other, to_status=Prescription.Status.REJECTED)
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    assert "TD" not in codes(rx)


def test_duplication_reported_once_when_the_catalogue_has_a_td_interaction(clinical, cast):
    from catalog.models import DrugInteraction

    DrugInteraction.objects.create(
        drug=clinical.baclofen,
        route="intrathecal",
        interacts_with="baclofen",
        interacting_route="oral",
        code="TD",
        severity="moderate",
        message="Withdraw oral antispasmodics slowly when intrathecal therapy starts.",
    )
    cast.patient_a.current_products.add(clinical.tablet)
    rx = make_rx(
        cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1
    )
    tds = [f for f in dur_check(prescription=rx) if f.code == "TD"]
    assert len(tds) == 1 and "Withdraw oral antispasmodics" in tds[0].message


# --- refills and quantities ---------------------------------------------------------------------


def filled_days_ago(rx, pharmacist, days):
    approve(rx, pharmacist)
    prepared = timezone.now() - timedelta(days=days)
    coverage.prescription_fill(prescription_id=rx.pk, quantity=rx.quantity, reference=f"t:{days}", prepared_at=prepared)


def test_refill_before_the_threshold_is_early(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    filled_days_ago(rx, cast.pharmacist, 10)
    f = finding(rx, "ER")
    assert "30 days" in f.message and "75%" in f.message


def test_refill_after_the_threshold_is_not_early(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    filled_days_ago(rx, cast.pharmacist, 23)  # 75% of 30 days = 22.5 days
    assert "ER" not in codes(rx)


def test_the_lines_own_fill_is_not_an_earlier_fill(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    filled_days_ago(rx, cast.pharmacist, 0)
    assert "ER" in codes(rx)
    assert "ER" not in codes(rx, context=DurContext(reference="t:0"))


def test_early_refill_threshold_is_a_setting(clinical, cast, settings):
    settings.RX_EARLY_REFILL_THRESHOLD = 0.25
    rx = make_rx(cast.patient_a, clinical.tablet)
    filled_days_ago(rx, cast.pharmacist, 10)
    assert "ER" not in codes(rx)


def test_quantity_beyond_the_days_supply_is_excessive(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, quantity=120)  # 30 mg/day x 30 days = 90 tablets
    f = finding(rx, "EX")
    assert "120" in f.message and "90" in f.message


def test_quantity_matching_the_days_supply_is_not_excessive(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, quantity=90)
    assert "EX" not in codes(rx)
    assert "EX" in codes(rx, quantity=91)  # an order line asking for more than the supply needs


def test_expired_prescription_is_flagged(clinical, cast, settings):
    rx = make_rx(
        cast.patient_a,
        clinical.tablet,
        written_date=timezone.localdate() - timedelta(days=settings.RX_NONCONTROLLED_EXPIRY_DAYS + 1),
    )
    assert finding(rx, "XP").severity == Finding.Severity.HIGH


def test_prescription_within_its_validity_is_not_expired(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, written_date=timezone.localdate() - timedelta(days=100))
    assert "XP" not in codes(rx)
    assert "XP" in codes(rx, context=DurContext(today=rx.expires_on + timedelta(days=1)))


def test_schedule_ii_refills_break_the_refill_limit(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.morphine_tablet, dose_amount=Decimal("15"), quantity=90, refills_authorized=2)
    f = finding(rx, "RL")
    assert "no refills" in f.message
    assert rx.fills_remaining == 1  # only the first fill can ever be dispensed


def test_schedule_ii_without_refills_is_within_the_limit(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.morphine_tablet, dose_amount=Decimal("15"), refills_authorized=0)
    assert "RL" not in codes(rx)


def test_schedule_iv_allows_five_refills_not_six(cast):
    drug = DrugFactory(dea_schedule="IV")
    product = ProductFactory(drug=drug, tiers=[])
    assert "RL" not in codes(make_rx(cast.patient_a, product, refills_authorized=5))
    six = make_rx(cast.patient_a, product, refills_authorized=6)
    assert "RL" in codes(six)
    assert six.expires_on == six.written_date + relativedelta(months=6)


# --- prescriber numbers ---------------------------------------------------------------------------


def test_prescriber_npi_failing_its_check_digit_is_flagged(clinical, cast):
    bad = Prescriber.objects.create(name="Dr Typo", npi="1234567890")  # as received from another system
    f = finding(make_rx(cast.patient_a, clinical.tablet, prescriber=bad), "PN")
    assert f.severity == Finding.Severity.HIGH and "1234567890" in f.message


def test_valid_prescriber_npi_is_not_flagged(clinical, cast):
    assert "PN" not in codes(make_rx(cast.patient_a, clinical.tablet))


def test_controlled_prescription_needs_a_valid_dea_number(clinical, cast):
    no_dea = Prescriber.objects.create(name="Dr Ann Smith", npi="1245319599")
    assert (
        "DEA"
        in finding(
            make_rx(cast.patient_a, clinical.morphine_tablet, prescriber=no_dea, refills_authorized=0), "PN"
        ).message
    )
    bad_dea = Prescriber.objects.create(name="Dr Ann Smith", npi="2000000002", dea_number="AS1234560")
    assert (
        "checksum"
        in finding(
            make_rx(cast.patient_a, clinical.morphine_tablet, prescriber=bad_dea, refills_authorized=0), "PN"
        ).message
    )


def test_controlled_prescription_with_a_valid_dea_number_is_not_flagged(clinical, cast):
    good = Prescriber.objects.create(name="Dr Ann Smith", npi="1245319599", dea_number="AS1234563")
    rx = make_rx(cast.patient_a, clinical.morphine_tablet, prescriber=good, refills_authorized=0)
    assert "PN" not in codes(rx)


# --- storage ----------------------------------------------------------------------------------------


def test_findings_are_stored_and_recomputed_when_review_starts(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"))
    assert list(rx.findings.values_list("code", flat=True)) == ["HD"]
    Prescription.objects.filter(pk=rx.pk).update(dose_amount=Decimal("10"))
    rx.refresh_from_db()
    prescription_transition(prescription=rx, to_status=Prescription.Status.IN_REVIEW)
    assert not rx.findings.exists()
