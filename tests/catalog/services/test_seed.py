"""The seed catalogue: both seed pages load completely, and loading again changes nothing."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
import yaml
from django.core.management import CommandError, call_command
from django.utils import timezone

from catalog.models import Drug, DrugInteraction, DrugRoute, DrugTerm, MonographSection, PriceTier, Product, StockLot
from catalog.services import stock
from catalog.services.quotes import product_pricing
from catalog.services.seed import SEED_DIR, seed_catalogue_read

pytestmark = pytest.mark.django_db

TABLET_NDC = "00832102400"
INJECTION_NDC = "67457000020"  # documented placeholder under Mylan Institutional's labeler 67457
SEED_MODELS = [Drug, DrugRoute, DrugInteraction, Product, PriceTier, StockLot, MonographSection, DrugTerm]

TABLET_SECTIONS = ["Uses", "Dosage and Administration", "Cautions", "Drug Interactions", "Pharmacokinetics"]
INJECTION_SECTIONS = [
    "Warning",
    "Common Uses",
    "What is this medicine?",
    "How to Use This Medicine",
    "Lifestyle & Tips",
    "Adult Dosing",
    "Pediatric Dosing",
    "Dose Adjustments",
    "Mechanism of Action",
    "Pharmacokinetics",
    "Pharmacodynamics",
    "Side Effects",
    "Seek Immediate Medical Attention If You Experience",
    "Before Using This Medicine",
    "Precautions & Cautions",
    "Overdose Information",
    "Major Interactions",
    "Moderate Interactions",
    "Baseline Monitoring",
    "Routine Monitoring",
    "Symptom Monitoring",
    "Pregnancy",
    "Lactation",
    "Pediatric Use",
    "Geriatric Use",
    "Clinical Pearls",
    "Alternative Therapies",
    "Cost & Coverage",
    "General Drug Facts",
]


def load_seed() -> str:
    out = StringIO()
    call_command("load_seed_catalogue", stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    """Every row of every model the seed writes, with every column (timestamps included)."""
    return {model.__name__: list(model.objects.order_by("pk").values()) for model in SEED_MODELS}


def seed_terms() -> list[str]:
    data = seed_catalogue_read(path=SEED_DIR / "vocabulary.yaml")
    return [t["name"] for t in data["terms"]] + [b for t in data["terms"] for b in t.get("brands", [])]


def test_seed_loads_the_drug_facts():
    load_seed()
    drug = Drug.objects.get()
    assert drug.name == "Baclofen"
    assert drug.active_ingredient == "baclofen"
    assert drug.drug_class == "Antispasticity agent"
    assert drug.pharmacologic_class == "Centrally acting skeletal muscle relaxant; GABA-B receptor agonist"
    assert drug.pregnancy_category == "C"
    assert drug.fda_approved.isoformat() == "1992-03-01"
    assert not drug.is_controlled
    assert drug.interaction_groups == ["cns_depressant", "muscle_relaxant"]
    assert "distributed into milk following oral administration" in drug.lactation_note
    assert drug.brand_names == ["Lioresal", "Gablofen", "Ozobax", "Fleqsuvy", "Lyvispah"]


def test_seed_loads_route_limits_as_clinical_data():
    load_seed()
    oral = DrugRoute.objects.get(route="oral")
    assert (oral.dose_unit, oral.max_daily_dose, oral.min_daily_dose, oral.min_age_years) == (
        "mg",
        Decimal("80"),
        Decimal("15"),
        12,
    )
    assert oral.black_box_warning == ""
    assert "reduce the dose in impaired renal function" in oral.renal_caution
    assert oral.renal_max_daily_dose is None
    intrathecal = DrugRoute.objects.get(route="intrathecal")
    assert (
        intrathecal.dose_unit,
        intrathecal.max_daily_dose,
        intrathecal.min_daily_dose,
        intrathecal.min_age_years,
    ) == ("mcg", Decimal("1000"), None, 4)
    assert intrathecal.black_box_warning.startswith("Abrupt discontinuation of intrathecal baclofen")
    assert "multi-organ system failure, and death" in intrathecal.black_box_warning
    # Page 000: "it may be necessary to reduce either oral or intrathecal dosage" in renal impairment.
    assert "intrathecal" in intrathecal.renal_caution and intrathecal.renal_max_daily_dose is None


def test_seed_loads_the_drug_vocabulary_with_brands_as_terms_of_their_ingredient():
    load_seed()
    alprazolam = DrugTerm.objects.get(name="alprazolam")
    assert (alprazolam.kind, alprazolam.ingredient) == ("ingredient", "")
    assert set(alprazolam.classes) == {"benzodiazepine", "cns_depressant"}
    xanax = DrugTerm.objects.get(name="Xanax")
    assert (xanax.kind, xanax.ingredient, xanax.classes) == ("brand", "alprazolam", alprazolam.classes)
    assert DrugTerm.objects.get(name="Ultram").ingredient == "tramadol"
    assert "barbiturate" in DrugTerm.objects.get(name="butalbital").classes


def test_the_vocabulary_covers_every_class_the_interaction_data_names():
    load_seed()
    classes = {c for term in DrugTerm.objects.all() for c in term.classes}
    named = set(DrugInteraction.objects.values_list("interacts_with", flat=True))
    named -= set(DrugTerm.objects.values_list("name", flat=True))  # ingredients named directly (morphine)
    named -= set(Drug.objects.values_list("active_ingredient", flat=True))  # the catalogue's own drugs
    assert named <= classes
    for klass in ("opioid", "benzodiazepine", "barbiturate", "alcohol", "tricyclic_antidepressant"):
        assert DrugTerm.objects.filter(classes__contains=[klass, "cns_depressant"]).count() >= 4


def test_seed_loads_interactions_with_codes_and_severities():
    load_seed()
    rows = {(i.route, i.interacts_with, i.interacting_route): i for i in DrugInteraction.objects.all()}
    for group in ("cns_depressant", "alcohol", "opioid", "benzodiazepine"):
        assert rows[("", group, "")].code == "AT"
        assert rows[("", group, "")].severity == "high"
    morphine = rows[("intrathecal", "morphine", "epidural")]
    assert (morphine.code, morphine.severity) == ("DD", "high")
    assert "hypotension and dyspnea" in morphine.message
    assert rows[("intrathecal", "baclofen", "oral")].code == "TD"


def test_seed_loads_the_tablet_with_its_tiers_and_stock():
    load_seed()
    product = Product.objects.get(ndc=TABLET_NDC)
    assert product.name == "Baclofen 10 mg tablet"
    assert product.ndc_display == "00832-1024-00"
    assert product.manufacturer == "UPSHER SMITH LA"
    assert product.is_generic and product.rx_required
    assert (product.strength, product.strength_unit, product.dosage_form, product.route) == (
        Decimal("10"),
        "mg",
        "tablet",
        "oral",
    )
    assert (product.selling_unit, product.pack_size) == ("tablet", 1)
    assert [(t.min_quantity, t.unit_price) for t in product.price_tiers.all()] == [
        (1, Decimal("2.48")),
        (30, Decimal("2.31")),
        (90, Decimal("0.17")),
    ]
    # The page's prices, kept as published: 90 tablets cost less than 89.
    prices = product_pricing(product)
    assert prices.quote(29).total == Decimal("71.92")
    assert prices.quote(30).total == Decimal("69.30")
    assert prices.quote(89).total == Decimal("205.59")
    assert prices.quote(90).total == Decimal("15.30")
    lot = StockLot.objects.get(product=product)
    assert (lot.quantity_received, lot.quantity_on_hand) == (1000, 1000)
    assert lot.expiry_date == timezone.localdate() + timedelta(days=730)
    assert stock.stock_available(product_ids=[product.pk])[product.pk] == 1000


def test_seed_loads_the_intrathecal_vial_without_price_or_stock():
    load_seed()
    product = Product.objects.get(ndc=INJECTION_NDC)
    assert product.name == "Baclofen 40 mg/20 mL intrathecal injection, 20 mL"
    assert product.ndc_display == "67457-0000-20"
    assert product.manufacturer == "MYLAN"
    assert product.rx_required
    assert (product.dosage_form, product.route, product.selling_unit) == ("injection", "intrathecal", "vial")
    assert (product.concentration_mcg_per_ml, product.volume_ml, product.strength_text) == (
        Decimal("2000"),
        Decimal("20"),
        "40 mg/20 mL",
    )
    assert not product.price_tiers.exists()
    assert not product.lots.exists()


def test_seed_loads_every_monograph_section_in_page_order():
    load_seed()
    tablet = Product.objects.get(ndc=TABLET_NDC)
    injection = Product.objects.get(ndc=INJECTION_NDC)
    assert [s.title for s in tablet.monograph.order_by("position")] == TABLET_SECTIONS
    assert [s.title for s in injection.monograph.order_by("position")] == INJECTION_SECTIONS
    assert list(tablet.monograph.order_by("position").values_list("kind", flat=True)) == [
        "uses",
        "dosage",
        "cautions",
        "interactions",
        "pharmacokinetics",
    ]
    dosage = tablet.monograph.get(title="Dosage and Administration").body
    assert "#### Oral Dosage" in dosage and "#### Intrathecal Dosage" in dosage
    assert "total dosage should not exceed 80 mg daily" in dosage
    pediatric = injection.monograph.get(title="Pediatric Dosing").body
    assert "approved for children ≥4 years" in pediatric  # mojibake repaired
    side_effects = injection.monograph.get(title="Side Effects").body
    assert "  - Swelling of the mouth, face, lips, tongue, or throat" in side_effects
    assert not MonographSection.objects.filter(body__contains="\u00e2").exists()  # no glyph noise left


def test_seed_run_twice_changes_nothing():
    first_output = load_seed()
    before = snapshot()
    second_output = load_seed()
    assert snapshot() == before
    assert "loaded" in first_output
    assert "nothing changed" in second_output
    assert {name: len(rows) for name, rows in before.items()} == {
        "Drug": 1,
        "DrugRoute": 2,
        "DrugInteraction": 9,
        "Product": 2,
        "PriceTier": 3,
        "StockLot": 1,
        "MonographSection": len(TABLET_SECTIONS) + len(INJECTION_SECTIONS),
        "DrugTerm": len(seed_terms()),
    }


def test_seed_restores_edited_values_but_never_touches_a_received_lot():
    load_seed()
    product = Product.objects.get(ndc=TABLET_NDC)
    PriceTier.objects.filter(product=product, min_quantity=30).update(unit_price=Decimal("9.99"))
    Product.objects.filter(pk=product.pk).update(manufacturer="SOMEONE ELSE")
    stock.stock_reserve(reference="order:1", lines=[(product.pk, 10)], ttl=None)
    stock.stock_allocate(reference="order:1", product_id=product.pk, quantity=10)
    output = load_seed()
    product.refresh_from_db()
    assert product.manufacturer == "UPSHER SMITH LA"
    assert [t.unit_price for t in product.price_tiers.all()] == [Decimal("2.48"), Decimal("2.31"), Decimal("0.17")]
    assert StockLot.objects.get(product=product).quantity_on_hand == 990
    assert "products: 0 created, 1 updated" in output


def test_seed_refuses_overlapping_tiers_and_saves_nothing(tmp_path):
    data = seed_catalogue_read(path=SEED_DIR / "baclofen.yaml")
    data["products"][0]["price_tiers"].append({"min_quantity": 30, "unit_price": "1.00"})
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CommandError, match="Two tiers start at quantity 30"):
        call_command("load_seed_catalogue", str(bad), stdout=StringIO())
    assert all(not model.objects.exists() for model in SEED_MODELS)


def test_seed_takes_over_a_term_written_in_another_case():
    DrugTerm.objects.create(name="XANAX", kind="ingredient", classes=[])
    load_seed()
    term = DrugTerm.objects.get(name__iexact="xanax")
    assert (term.kind, term.ingredient, set(term.classes)) == (
        "brand",
        "alprazolam",
        {"benzodiazepine", "cns_depressant"},
    )
