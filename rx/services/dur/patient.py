"""DUR checks of the drug against the patient: pregnancy (PG), lactation (NR) and allergies (DA)."""

from catalog.models import Drug

from ...models import Patient
from .findings import HIGH, LOW, MODERATE, FindingData, contains_term, split_entries

PREGNANCY_SEVERITY = {"B": LOW, "C": MODERATE, "D": HIGH, "X": HIGH}


def pregnancy_and_lactation(drug: Drug, patient: Patient) -> list[FindingData]:
    out = []
    category = (drug.pregnancy_category or "").strip().upper()
    if patient.pregnancy_status == Patient.Pregnancy.PREGNANT and category in PREGNANCY_SEVERITY:
        advice = {
            "B": "no evidence of risk in animal studies; use if clearly needed",
            "C": "risk cannot be ruled out; use only if the benefit justifies the risk to the fetus",
            "D": "evidence of fetal risk; use only when no safer option exists",
            "X": "contraindicated in pregnancy",
        }[category]
        out.append(
            FindingData(
                "PG",
                PREGNANCY_SEVERITY[category],
                f"Patient is pregnant; {drug} is pregnancy category {category}: {advice}.",
                {"pregnancy_category": category},
            )
        )
    if patient.is_lactating and drug.lactation_note.strip():
        out.append(FindingData("NR", MODERATE, f"Patient is breastfeeding. {drug}: {drug.lactation_note.strip()}"))
    return out


def allergy_check(drug: Drug, patient: Patient) -> list[FindingData]:
    for entry in split_entries(patient.allergies):
        # The drug under any of its names: ingredient, catalogue name, brand names ("Lioresal").
        if any(contains_term(entry, name) for name in (drug.active_ingredient, drug.name, *drug.brand_names)):
            return [
                FindingData(
                    "DA",
                    HIGH,
                    f'Patient reports an allergy: "{entry}". Do not dispense {drug} unless the prescriber confirms.',
                    {"allergy": entry},
                )
            ]
    return []
