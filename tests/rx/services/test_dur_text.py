"""DUR reads what people type: free-text medications through the drug vocabulary (ingredients,
salts, brands, strengths and forms around them, negation), and allergies under a brand name."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.models import DrugInteraction, DrugTerm
from rx.models import Finding
from rx.services.dur import dur_check
from tests.rx.prescription_helpers import make_rx

pytestmark = pytest.mark.django_db


@pytest.fixture
def vocabulary(db):
    """A few vocabulary rows as the seed writes them (catalog/seed/vocabulary.yaml)."""
    rows = [
        ("alprazolam", "ingredient", "", ["benzodiazepine", "cns_depressant"]),
        ("Xanax", "brand", "alprazolam", ["benzodiazepine", "cns_depressant"]),
        ("tramadol", "ingredient", "", ["opioid", "cns_depressant"]),
        ("Ultram", "brand", "tramadol", ["opioid", "cns_depressant"]),
        ("imipramine", "ingredient", "", ["tricyclic_antidepressant", "cns_depressant"]),
        ("alcohol", "ingredient", "", ["alcohol", "cns_depressant"]),
        ("lisinopril", "ingredient", "", ["antihypertensive"]),
    ]
    DrugTerm.objects.bulk_create(DrugTerm(name=n, kind=k, ingredient=i, classes=c) for n, k, i, c in rows)


def findings(patient, product, **fields):
    return dur_check(prescription=make_rx(patient, product, **fields))


def intrathecal(patient, clinical):
    return make_rx(patient, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1)


@pytest.mark.parametrize("entry", ["alprazolam 0.5 mg", "Tramadol 50mg tablets", "imipramine", "Ultram 50 mg"])
def test_a_typed_medication_raises_the_interaction_of_its_class(clinical, cast, vocabulary, entry):
    cast.patient_a.current_medications_text = f"vitamin D\n{entry}"
    cast.patient_a.save()
    at = [f for f in findings(cast.patient_a, clinical.tablet) if f.code == "AT"]
    assert len(at) == 1 and at[0].severity == Finding.Severity.HIGH and entry in at[0].message


def test_a_class_other_than_cns_depressants_is_matched(clinical, cast, vocabulary):
    DrugInteraction.objects.create(
        drug=clinical.baclofen, interacts_with="antihypertensive", code="DD", severity="high", message="Hypotension."
    )
    cast.patient_a.current_medications_text = "Lisinopril 10 mg once daily"
    cast.patient_a.save()
    assert [f.code for f in findings(cast.patient_a, clinical.tablet) if f.code in {"AT", "DD"}] == ["DD"]


@pytest.mark.parametrize("entry", ["no alcohol", "denies alcohol", "not taking tramadol", "stopped Xanax"])
def test_a_negated_medication_raises_nothing(clinical, cast, vocabulary, entry):
    cast.patient_a.current_medications_text = entry
    cast.patient_a.save()
    assert not {"AT", "DD"} & {f.code for f in findings(cast.patient_a, clinical.tablet)}


def test_negation_is_read_for_catalogue_drugs_and_group_names_too(clinical, cast):
    cast.patient_a.current_medications_text = "no morphine; denies any CNS depressant"
    cast.patient_a.save()
    assert "AT" not in {f.code for f in findings(cast.patient_a, clinical.tablet)}


def test_a_brand_name_in_the_medication_list_is_the_drug(clinical, cast):
    clinical.baclofen.brand_names = ["Lioresal", "Ozobax"]
    clinical.baclofen.save()
    cast.patient_a.current_medications_text = "Ozobax 5 mg/5 mL oral solution"
    cast.patient_a.save()
    rx = intrathecal(cast.patient_a, clinical)
    assert "TD" in {f.code for f in dur_check(prescription=rx)}


def test_an_allergy_recorded_under_a_brand_name_is_flagged(clinical, cast):
    clinical.baclofen.brand_names = ["Lioresal", "Gablofen"]
    clinical.baclofen.save()
    cast.patient_a.allergies = "penicillin\nLioresal (hives)"
    cast.patient_a.save()
    da = next(f for f in findings(cast.patient_a, clinical.tablet) if f.code == "DA")
    assert da.severity == Finding.Severity.HIGH and "Lioresal" in da.message


def test_one_medication_in_two_interacting_classes_is_one_warning_of_each_kind(clinical, cast, vocabulary):
    # As in the seed: baclofen interacts with CNS depressants and, by name, with benzodiazepines.
    DrugInteraction.objects.create(
        drug=clinical.baclofen, interacts_with="benzodiazepine", code="AT", severity="high", message="Benzos."
    )
    DrugInteraction.objects.create(
        drug=clinical.baclofen, interacts_with="antihypertensive", code="DD", severity="high", message="Hypotension."
    )
    DrugTerm.objects.create(name="tizanidine", classes=["cns_depressant", "antihypertensive"])
    cast.patient_a.current_medications_text = "alprazolam 0.5 mg\ntizanidine 4 mg"
    cast.patient_a.save()
    found = sorted(
        (f.code, f.data["with"]) for f in findings(cast.patient_a, clinical.tablet) if f.code in {"AT", "DD"}
    )
    assert found == [
        ("AT", '"alprazolam 0.5 mg" (patient\'s medication list)'),
        ("AT", '"tizanidine 4 mg" (patient\'s medication list)'),
        ("DD", '"tizanidine 4 mg" (patient\'s medication list)'),
    ]


def test_the_vocabulary_costs_the_same_queries_whatever_its_size(clinical, cast, vocabulary, django_assert_num_queries):
    cast.patient_a.current_medications_text = "alprazolam 0.5 mg\nno alcohol\nUltram 50 mg"
    cast.patient_a.save()
    rx = make_rx(cast.patient_a, clinical.tablet)
    dur_check(prescription=rx)
    with CaptureQueriesContext(connection) as small:
        dur_check(prescription=rx)
    DrugTerm.objects.bulk_create(DrugTerm(name=f"drug{n}", classes=["opioid"]) for n in range(500))
    with django_assert_num_queries(len(small.captured_queries)):
        assert "AT" in {f.code for f in dur_check(prescription=rx)}
