"""Export a dispense as a FHIR R4 MedicationDispense (``medication_dispense_resource``)."""

import json
from typing import Any, cast

from fhir.resources.R4B.medicationdispense import MedicationDispense

from catalog import ndc as ndc_rules

from ...models import Dispense, Prescription
from .codes import NDC_SYSTEM, SNOMED, SNOMED_FOR_ROUTE, UCUM


def _dosage(rx: Prescription) -> list[dict[str, Any]]:
    if rx.dose_amount is None or rx.times_per_day is None:
        return [{"text": rx.sig}] if rx.sig else []
    dosage: dict[str, Any] = {
        "text": rx.sig or None,
        "timing": {
            "repeat": {
                "frequency": int(rx.times_per_day) if rx.times_per_day == int(rx.times_per_day) else 1,
                "period": 1 if rx.times_per_day == int(rx.times_per_day) else float(1 / rx.times_per_day),
                "periodUnit": "d",
            }
        },
        "asNeededBoolean": rx.as_needed,
        "doseAndRate": [
            {
                "doseQuantity": {
                    "value": float(rx.dose_amount),
                    "unit": rx.dose_unit,
                    "system": UCUM,
                    "code": {"unit": "{tbl}"}.get(rx.dose_unit, rx.dose_unit),
                }
            }
        ],
    }
    if rx.route:
        code = SNOMED_FOR_ROUTE.get(rx.route)
        dosage["route"] = {
            "text": rx.route,
            **({"coding": [{"system": SNOMED, "code": code, "display": rx.route}]} if code else {}),
        }
    return [{k: v for k, v in dosage.items() if v is not None}]


def medication_dispense_resource(*, dispense: Dispense) -> dict[str, Any]:
    """Return the dispense as a validated FHIR R4 MedicationDispense (a JSON-ready dict)."""
    rx = dispense.prescription
    product = dispense.product or rx.product
    if product is not None:
        medication = {
            "coding": [{"system": NDC_SYSTEM, "code": ndc_rules.format_ndc(product.ndc), "display": product.name}],
            "text": product.name,
        }
    else:
        medication = {"text": str(rx.drug or "medication")}
    data: dict[str, Any] = {
        "resourceType": "MedicationDispense",
        "id": str(dispense.pk),
        "identifier": [{"system": "urn:pharmacy:dispense-reference", "value": dispense.reference}],
        "status": "completed" if dispense.handed_over_at else "in-progress",
        "medicationCodeableConcept": medication,
        "subject": {"reference": f"Patient/{rx.patient_id}", "display": str(rx.patient)},
        "authorizingPrescription": [{"reference": f"MedicationRequest/{rx.pk}"}],
        "quantity": {"value": dispense.quantity, "unit": product.selling_unit if product else "unit"},
        "daysSupply": {"value": dispense.days_supply, "unit": "days", "system": UCUM, "code": "d"},
        "whenPrepared": dispense.prepared_at.isoformat(),
        "dosageInstruction": _dosage(rx),
        "substitution": {"wasSubstituted": bool(product and rx.product_id and product.pk != rx.product_id)},
    }
    if dispense.handed_over_at:
        data["whenHandedOver"] = dispense.handed_over_at.isoformat()
    if dispense.dispensed_by_id:
        assert dispense.dispensed_by is not None  # dispensed_by_id is set
        data["performer"] = [
            {"actor": {"display": dispense.dispensed_by.get_full_name() or dispense.dispensed_by.get_username()}}
        ]
    resource = MedicationDispense.model_validate(data)
    return cast(dict[str, Any], json.loads(resource.model_dump_json()))
