"""FHIR R4 in and out: import a MedicationRequest, export a Dispense as MedicationDispense.

Resources are validated with ``fhir.resources.R4B`` (R4B is R4 for these resources; the
package's default is R5, where MedicationRequest has no ``medicationCodeableConcept``).

Import mapping:

- ``subject``: ``Patient/<id>`` of a patient the sender may act for, or ``#<id>`` of a contained
  Patient (name, birthDate, gender), created in the sender's clinic or matched by name and
  birth date.
- ``requester``: ``#<id>`` of a contained Practitioner, or a logical reference with an
  identifier; the NPI is the identifier with system ``http://hl7.org/fhir/sid/us-npi``, the DEA
  number one with system ``urn:oid:2.16.840.1.113883.4.814`` (or any system ending in ``dea``).
- ``medicationCodeableConcept``: a coding with system ``http://hl7.org/fhir/sid/ndc``.
- ``dosageInstruction[0]``: ``timing`` (repeat frequency/period/periodUnit, or a code such as
  TID), ``doseAndRate[0].doseQuantity``, ``route`` (SNOMED CT or text), ``asNeededBoolean``, ``text``.
- ``dispenseRequest``: ``quantity``, ``numberOfRepeatsAllowed``, ``expectedSupplyDuration``,
  ``validityPeriod.end``; ``substitution.allowedBoolean``; ``authoredOn``; ``priority``.

Errors raise ``FhirInvalid`` (400) whose ``element`` names the failing element
(``dispenseRequest.numberOfRepeatsAllowed``), from the pydantic error location or from the
mapping step that refused it.
"""

import json
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from fhir.resources.R4B.medicationdispense import MedicationDispense
from fhir.resources.R4B.medicationrequest import MedicationRequest
from pydantic import ValidationError as PydanticValidationError

from catalog import ndc as ndc_rules
from catalog.models import Product, Route
from core.errors import DomainError

from .. import access
from ..models import ClinicMembership, Dispense, Patient, Prescription, date_of_birth_is_possible
from . import audit
from .prescriptions import prescriber_get_or_create, prescription_create

NDC_SYSTEM = "http://hl7.org/fhir/sid/ndc"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
DEA_SYSTEMS = {"urn:oid:2.16.840.1.113883.4.814"}
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
# SNOMED CT route codes.
ROUTE_CODES = {
    "26643006": Route.ORAL, "72607000": Route.INTRATHECAL, "404820008": Route.EPIDURAL,
    "47625008": Route.INTRAVENOUS, "6064005": Route.TOPICAL,
}
SNOMED_FOR_ROUTE = {v: k for k, v in ROUTE_CODES.items()}
TIMING_CODES = {"QD": 1, "BID": 2, "TID": 3, "QID": 4, "QOD": Decimal("0.5"), "Q4H": 6, "Q6H": 4, "Q8H": 3,
                "Q12H": 2, "AM": 1, "PM": 1}
PER_DAY = {"s": Decimal(86400), "min": Decimal(1440), "h": Decimal(24), "d": Decimal(1), "wk": Decimal(1) / 7,
           "mo": Decimal(1) / 30, "a": Decimal(1) / 365}
DAYS_IN = {"d": 1, "day": 1, "days": 1, "wk": 7, "week": 7, "weeks": 7, "mo": 30, "month": 30, "months": 30}
DOSE_UNITS = {"mg": "mg", "mcg": "mcg", "ug": "mcg", "µg": "mcg", "ml": "mL", "tablet": "unit", "tab": "unit",
              "{tbl}": "unit", "{tablet}": "unit", "capsule": "unit", "{capsule}": "unit", "ampule": "unit",
              "vial": "unit", "{each}": "unit", "each": "unit", "1": "unit"}
ACCEPTED_INTENTS = {"order", "original-order", "instance-order", "filler-order", "reflex-order"}
URGENT_PRIORITIES = {"urgent", "asap", "stat"}
# Model field -> the request element it comes from, to name the element in errors.
FIELD_ELEMENTS = {
    "route": "dosageInstruction[0].route", "product": "medicationCodeableConcept", "dose_amount":
    "dosageInstruction[0].doseAndRate[0].doseQuantity", "dose_unit": "dosageInstruction[0].doseAndRate[0].doseQuantity",
    "times_per_day": "dosageInstruction[0].timing", "quantity": "dispenseRequest.quantity",
    "refills_authorized": "dispenseRequest.numberOfRepeatsAllowed",
    "days_supply": "dispenseRequest.expectedSupplyDuration", "written_date": "authoredOn",
    "valid_until": "dispenseRequest.validityPeriod",
}


class FhirInvalid(DomainError):
    """The resource is invalid or cannot be mapped; ``element`` names where."""

    code = "invalid_fhir_resource"

    def __init__(self, element: str, message: str):
        super().__init__(f"{element}: {message}", data={"element": element, "errors": {element: [message]}})
        self.element = element


class FhirNotPermitted(DomainError):
    status_code = 403
    code = "permission_denied"


def element_path(loc) -> str:
    """Turn a pydantic error location into a FHIR element path: ('a', 0, 'b') -> 'a[0].b'."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "resource_type":
            path += ("." if path else "") + "resourceType"
        elif isinstance(part, str) and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            path += ("." if path else "") + part
    return path


def _pydantic_to_fhir_invalid(exc: PydanticValidationError) -> FhirInvalid:
    error = exc.errors()[0]
    element = element_path(error.get("loc") or ())
    message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if not element:
        named = re.findall(r"'([A-Za-z]+)'", message)
        element = (re.sub(r"(CodeableConcept|Reference|Boolean|Quantity)$", "", named[0]) + "[x]"
                   if len(named) > 1 else named[0] if named else "MedicationRequest")
    return FhirInvalid(element, " ".join(message.split()))


def _fit(value: str, limit: int, element: str) -> str:
    """Refuse text longer than the column that stores it (400 naming the element, not a DataError)."""
    if len(value) > limit:
        raise FhirInvalid(element, f"At most {limit} characters (got {len(value)}).")
    return value


def _contained(resource, reference: str, resource_type: str, element: str):
    ref = (reference or "").strip()
    if not ref.startswith("#"):
        return None
    for item in resource.contained or []:
        if item.id == ref[1:]:
            if item.get_resource_type() != resource_type:
                raise FhirInvalid(element, f"{ref} is a {item.get_resource_type()}, not a {resource_type}.")
            return item
    raise FhirInvalid(element, f"No contained resource with id {ref[1:]!r}.")


def _sole_clinic(user, element):
    clinics = list(ClinicMembership.objects.filter(user=user).values_list("clinic_id", flat=True))
    if len(clinics) != 1:
        raise FhirInvalid(element, "A contained Patient needs a sender who belongs to exactly one clinic; "
                                   "reference an existing patient (Patient/<id>) instead.")
    return clinics[0]


def _patient(resource, user, request) -> Patient:
    subject = resource.subject
    if subject is None:
        raise FhirInvalid("subject", "The patient (Patient/<id> or #<contained id>) is required.")
    ref = (subject.reference or "").strip()
    contained = _contained(resource, ref, "Patient", "subject")
    if contained is not None:
        clinic_id = _sole_clinic(user, "subject")
        name = (contained.name or [None])[0]
        family = (name.family or "").strip() if name else ""
        given = " ".join(name.given or []) if name else ""
        if not family or not given or contained.birthDate is None:
            raise FhirInvalid("contained.Patient", "The contained Patient needs name.family, name.given and birthDate.")
        born = contained.birthDate
        if not isinstance(born, date) or not date_of_birth_is_possible(born) or born.year < 1900:
            raise FhirInvalid("contained.Patient.birthDate", "A full date (YYYY-MM-DD) from 1900 up to today.")
        _fit(family, 100, "contained.Patient.name.family")
        _fit(given, 100, "contained.Patient.name.given")
        sex = {"female": "F", "male": "M", "other": "O"}.get(contained.gender or "", "U")
        patient, created = Patient.objects.get_or_create(
            clinic_id=clinic_id, first_name=given, last_name=family, date_of_birth=contained.birthDate,
            defaults={"sex": sex})
        if created:
            audit.audit_record(user=user, action=audit.Action.CREATE, obj=patient, request=request,
                               detail="FHIR contained Patient")
        return patient
    match = re.fullmatch(r"Patient/(\d+)", ref)
    if not match:
        raise FhirInvalid("subject", "Expected a reference Patient/<id> or #<contained id>.")
    # Only patients the sender acts for (or, for a pharmacist, may already see): a plain staff
    # flag must not open every patient's record, nor the DUR findings the answer carries.
    allowed = access.patients_owned_by(user)
    if access.is_pharmacist(user):
        allowed = allowed | access.patients_visible_to(user)
    patient = allowed.filter(pk=int(match.group(1))).first()
    if patient is None:
        raise FhirInvalid("subject", f"{ref} is not a patient you may prescribe for.")
    return patient


def _identifier(identifiers, systems) -> str:
    for ident in identifiers or []:
        system = (ident.system or "").strip()
        if system in systems or (systems is DEA_SYSTEMS and system.lower().endswith("dea")):
            return (ident.value or "").strip()
    return ""


def _prescriber(resource):
    requester = resource.requester
    if requester is None:
        raise FhirInvalid("requester", "The prescriber (a Practitioner with an NPI identifier) is required.")
    practitioner = _contained(resource, requester.reference, "Practitioner", "requester")
    if practitioner is not None:
        idents = practitioner.identifier
        hn = (practitioner.name or [None])[0]
        name = (hn.text or " ".join([*(hn.prefix or []), *(hn.given or []), hn.family or ""])).strip() if hn else ""
        telecom = {t.system: t.value for t in practitioner.telecom or []}
    else:
        idents = [requester.identifier] if requester.identifier else []
        name, telecom = (requester.display or "").strip(), {}
    npi = _identifier(idents, {NPI_SYSTEM})
    if not npi:
        raise FhirInvalid("requester", f"The prescriber needs an NPI identifier (system {NPI_SYSTEM}).")
    _fit(npi, 10, "requester.identifier")
    _fit(_identifier(idents, DEA_SYSTEMS), 9, "requester.identifier")
    _fit(name, 200, "requester.name")
    return prescriber_get_or_create(name=name or f"NPI {npi}", npi=npi, dea_number=_identifier(idents, DEA_SYSTEMS),
                                    phone=telecom.get("phone") or "", fax=telecom.get("fax") or "",
                                    email=telecom.get("email") or "", validate=False)


def _product(resource) -> Product:
    concept = resource.medicationCodeableConcept
    if concept is None:
        raise FhirInvalid("medicationCodeableConcept", "Send the medication as a CodeableConcept with an NDC coding "
                                                       "(medicationReference is not supported).")
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


def _times_per_day(timing, element) -> Decimal:
    if timing is None:
        raise FhirInvalid(element, "How often (timing.repeat or timing.code) is required.")
    repeat = timing.repeat
    if repeat is not None and (repeat.frequency or repeat.frequencyMax):
        frequency = Decimal(repeat.frequencyMax or repeat.frequency)
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
            return Decimal(TIMING_CODES[coding.code.upper()])
    raise FhirInvalid(element, "timing needs repeat.frequency with period and periodUnit, or a code such as TID.")


def _route(dosage, product: Product) -> str:
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


def _directions(resource, product: Product) -> dict:
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
        raise FhirInvalid(f"{element}.doseAndRate[0].doseQuantity.unit", f"Unknown dose unit {unit_text!r}; "
                                                                         "use mg, mcg, mL or a tablet count.")
    times = _times_per_day(dosage.timing, f"{element}.timing")
    route = _route(dosage, product)
    sig = (dosage.text or f"{quantity.value} {unit_text} {route} {times} times a day").strip()
    return {"dose_amount": Decimal(str(quantity.value)), "dose_unit": unit, "times_per_day": times, "route": route,
            "as_needed": bool(dosage.asNeededBoolean), "sig": sig}


def _dispense_request(resource) -> dict:
    dr = resource.dispenseRequest
    if dr is None or dr.quantity is None or dr.quantity.value is None:
        raise FhirInvalid("dispenseRequest.quantity", "The quantity to dispense is required.")
    value = Decimal(str(dr.quantity.value))
    if value <= 0 or value != value.to_integral_value():
        raise FhirInvalid("dispenseRequest.quantity", "Must be a positive whole number of units.")
    out = {"quantity": int(value), "refills_authorized": int(dr.numberOfRepeatsAllowed or 0)}
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


def medication_request_import(*, payload, user, request=None) -> Prescription:
    """Validate a FHIR R4 MedicationRequest and create the prescription it carries.

    ``user`` must be clinic staff (for their clinic's patients) or pharmacy staff. Returns the
    new prescription (status received, findings computed). Raises FhirInvalid (400) naming
    the failing element, FhirNotPermitted (403) for other users.
    """
    if not (access.is_pharmacist(user) or access.is_rx_admin(user) or access.clinic_ids_of(user)):
        raise FhirNotPermitted("Only clinics and pharmacy staff may send MedicationRequests.")
    if not isinstance(payload, dict):
        raise FhirInvalid("MedicationRequest", "Expected a JSON object.")
    if payload.get("resourceType") != "MedicationRequest":
        raise FhirInvalid("resourceType", "Expected a MedicationRequest.")
    try:
        resource = MedicationRequest.model_validate(payload)
    except PydanticValidationError as exc:
        raise _pydantic_to_fhir_invalid(exc) from exc
    except KeyError as exc:  # fhir.resources raises KeyError for an unknown contained resourceType
        raise FhirInvalid("contained", f"Unknown resourceType {exc.args[0] if exc.args else ''!s}.") from exc
    if resource.status != "active":
        raise FhirInvalid("status", f"Only active requests can be dispensed (got {resource.status!r}).")
    if resource.intent not in ACCEPTED_INTENTS:
        raise FhirInvalid("intent", f"A {resource.intent!r} is not an order to dispense.")
    if resource.authoredOn is None:
        raise FhirInvalid("authoredOn", "The written date is required.")
    product = _product(resource)
    fields = {"product": product, **_directions(resource, product), **_dispense_request(resource)}
    authored = resource.authoredOn
    fields["written_date"] = authored.date() if hasattr(authored, "hour") else authored
    if not isinstance(fields["written_date"], date):
        raise FhirInvalid("authoredOn", "A full date (YYYY-MM-DD) is required.")
    if fields["written_date"] > timezone.localdate() + timedelta(days=1) or fields["written_date"].year < 1900:
        raise FhirInvalid("authoredOn", "The written date cannot be in the future (or before 1900).")
    if resource.substitution is not None:
        allowed = resource.substitution.allowedBoolean
        if allowed is None and resource.substitution.allowedCodeableConcept is not None:
            codes = {c.code for c in resource.substitution.allowedCodeableConcept.coding or []}
            allowed = "N" not in codes
        fields["substitution_allowed"] = bool(allowed) if allowed is not None else True
    if resource.priority in URGENT_PRIORITIES:
        fields["priority"] = Prescription.Priority.URGENT
        fields["priority_reason"] = f"MedicationRequest priority {resource.priority}"
    ident = next((i.value for i in resource.identifier or [] if i.value), "") or (resource.id or "")
    fields["external_id"] = ident[:200]
    # All or nothing: a contained Patient (and its audit row) or a new Prescriber must not be
    # left behind when a later element is refused.
    try:
        with transaction.atomic():
            patient = _patient(resource, user, request)
            fields["prescriber"] = _prescriber(resource)
            return prescription_create(user=user, patient=patient, source=Prescription.Source.FHIR,
                                       request=request, **fields)
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise FhirInvalid(FIELD_ELEMENTS.get(name, name), " ".join(messages)) from exc


# --- export ------------------------------------------------------------------------------------

def _dosage(rx: Prescription) -> list[dict]:
    if rx.dose_amount is None or rx.times_per_day is None:
        return [{"text": rx.sig}] if rx.sig else []
    dosage = {
        "text": rx.sig or None,
        "timing": {"repeat": {"frequency": int(rx.times_per_day) if rx.times_per_day == int(rx.times_per_day)
                              else 1, "period": 1 if rx.times_per_day == int(rx.times_per_day)
                              else float(1 / rx.times_per_day), "periodUnit": "d"}},
        "asNeededBoolean": rx.as_needed,
        "doseAndRate": [{"doseQuantity": {"value": float(rx.dose_amount), "unit": rx.dose_unit,
                                          "system": UCUM, "code": {"unit": "{tbl}"}.get(rx.dose_unit, rx.dose_unit)}}],
    }
    if rx.route:
        code = SNOMED_FOR_ROUTE.get(rx.route)
        dosage["route"] = {"text": rx.route, **({"coding": [{"system": SNOMED, "code": code, "display": rx.route}]}
                                               if code else {})}
    return [{k: v for k, v in dosage.items() if v is not None}]


def medication_dispense_resource(*, dispense: Dispense) -> dict:
    """Return the dispense as a validated FHIR R4 MedicationDispense (a JSON-ready dict)."""
    rx = dispense.prescription
    product = dispense.product or rx.product
    if product is not None:
        medication = {"coding": [{"system": NDC_SYSTEM, "code": ndc_rules.format_ndc(product.ndc),
                                  "display": product.name}], "text": product.name}
    else:
        medication = {"text": str(rx.drug or "medication")}
    data = {
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
        data["performer"] = [{"actor": {"display": dispense.dispensed_by.get_full_name()
                                        or dispense.dispensed_by.get_username()}}]
    resource = MedicationDispense.model_validate(data)
    return json.loads(resource.model_dump_json())
