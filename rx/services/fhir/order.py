"""What a MedicationRequest orders: the product (an NDC coding), the directions
(``dosageInstruction[0]``) and the dispense request (quantity, repeats, supply, validity)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any, cast

from catalog import ndc as ndc_rules
from catalog.models import Product, Route

from .codes import DAYS_IN, DOSE_UNITS, NDC_SYSTEM, PER_DAY, ROUTE_CODES, TIMING_CODES
from .errors import FhirInvalid

if TYPE_CHECKING:
    from fhir.resources.R4B.dosage import Dosage
    from fhir.resources.R4B.medicationrequest import MedicationRequest
    from fhir.resources.R4B.timing import Timing


def request_product(resource: MedicationRequest) -> Product:
    concept = resource.medicationCodeableConcept
    if concept is None:
        raise FhirInvalid(
            "medicationCodeableConcept",
            "Send the medication as a CodeableConcept with an NDC coding (medicationReference is not supported).",
        )
    codes = [c.code for c in concept.coding or [] if (c.system or "").strip() == NDC_SYSTEM and c.code]
    if not codes:
        raise FhirInvalid("medicationCodeableConcept.coding", f"No coding with system {NDC_SYSTEM}.")
    for code in codes:
        try:
            ndc11 = ndc_rules.normalize_ndc(code)
        except ndc_rules.InvalidNDC as exc:
            raise FhirInvalid("medicationCodeableConcept.coding", f"{code}: {exc}") from exc
        product = Product.objects.filter(ndc=ndc11).select_related("drug").first()
        if product:
            return product
    raise FhirInvalid("medicationCodeableConcept.coding", f"NDC {codes[0]} is not a product we dispense.")


def _times_per_day(timing: Timing | None, element: str) -> Decimal:
    if timing is None:
        raise FhirInvalid(element, "How often (timing.repeat or timing.code) is required.")
    repeat = timing.repeat
    if repeat is not None and (repeat.frequency or repeat.frequencyMax):
        frequency = Decimal(cast(int, repeat.frequencyMax or repeat.frequency))  # one of them is set (checked above)
        period = Decimal(str(repeat.period or 1))
        unit = repeat.periodUnit or "d"
        if period <= 0 or unit not in PER_DAY:
            raise FhirInvalid(f"{element}.repeat", "period must be positive with a UCUM time unit.")
        try:
            return (frequency * PER_DAY[unit] / period).quantize(Decimal("0.001"))
        except InvalidOperation:
            raise FhirInvalid(f"{element}.repeat", "frequency per period is out of range.") from None
    code = timing.code
    for coding in (code.coding or []) if code else []:
        if (coding.code or "").upper() in TIMING_CODES:
            assert coding.code is not None  # "" is no timing code
            return Decimal(TIMING_CODES[coding.code.upper()])
    raise FhirInvalid(element, "timing needs repeat.frequency with period and periodUnit, or a code such as TID.")


def _route(dosage: Dosage, product: Product) -> str:
    if dosage.route is None:
        return product.route
    for coding in dosage.route.coding or []:
        if coding.code in ROUTE_CODES:
            return ROUTE_CODES[coding.code]
    words = " ".join(filter(None, [dosage.route.text, *[c.display or "" for c in dosage.route.coding or []]])).lower()
    for value, _label in Route.choices:
        if value in words:
            return value
    raise FhirInvalid("dosageInstruction[0].route", "Unknown route; use a SNOMED CT route code.")


def request_directions(resource: MedicationRequest, product: Product) -> dict[str, Any]:
    if not resource.dosageInstruction:
        raise FhirInvalid("dosageInstruction", "At least one dosage instruction is required.")
    dosage = resource.dosageInstruction[0]
    element = "dosageInstruction[0]"
    quantity = None
    for dr in dosage.doseAndRate or []:
        quantity = dr.doseQuantity or (dr.doseRange.high if dr.doseRange else None)
        if quantity is not None:
            break
    if quantity is None or quantity.value is None or quantity.value <= 0:
        raise FhirInvalid(f"{element}.doseAndRate", "A positive doseQuantity is required.")
    unit_text = (quantity.code or quantity.unit or "").strip()
    unit = DOSE_UNITS.get(unit_text.lower()) or DOSE_UNITS.get(unit_text)
    if unit is None:
        raise FhirInvalid(
            f"{element}.doseAndRate[0].doseQuantity.unit",
            f"Unknown dose unit {unit_text!r}; use mg, mcg, mL or a tablet count.",
        )
    times = _times_per_day(dosage.timing, f"{element}.timing")
    route = _route(dosage, product)
    sig = (dosage.text or f"{quantity.value} {unit_text} {route} {times} times a day").strip()
    return {
        "dose_amount": Decimal(str(quantity.value)),
        "dose_unit": unit,
        "times_per_day": times,
        "route": route,
        "as_needed": bool(dosage.asNeededBoolean),
        "sig": sig,
    }


def request_dispense(resource: MedicationRequest) -> dict[str, Any]:
    dr = resource.dispenseRequest
    if dr is None or dr.quantity is None or dr.quantity.value is None:
        raise FhirInvalid("dispenseRequest.quantity", "The quantity to dispense is required.")
    value = Decimal(str(dr.quantity.value))
    if value <= 0 or value != value.to_integral_value():
        raise FhirInvalid("dispenseRequest.quantity", "Must be a positive whole number of units.")
    out: dict[str, Any] = {"quantity": int(value), "refills_authorized": int(dr.numberOfRepeatsAllowed or 0)}
    if dr.numberOfRepeatsAllowed is not None and dr.numberOfRepeatsAllowed < 0:
        raise FhirInvalid("dispenseRequest.numberOfRepeatsAllowed", "Must not be negative.")
    if dr.expectedSupplyDuration is not None:
        duration = dr.expectedSupplyDuration
        factor = DAYS_IN.get((duration.code or duration.unit or "d").strip().lower())
        if factor is None or duration.value is None or duration.value <= 0:
            raise FhirInvalid("dispenseRequest.expectedSupplyDuration", "Give a positive duration in d, wk or mo.")
        out["days_supply"] = int((Decimal(str(duration.value)) * factor).to_integral_value())
    if dr.validityPeriod is not None and dr.validityPeriod.end is not None:
        end = dr.validityPeriod.end
        out["valid_until"] = end.date() if hasattr(end, "date") and callable(end.date) else end
    return out
