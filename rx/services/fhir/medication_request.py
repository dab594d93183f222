"""Import a FHIR R4 MedicationRequest as a prescription (``medication_request_import``)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from fhir.resources.R4B.medicationrequest import MedicationRequest
from pydantic import ValidationError as PydanticValidationError

from core.inputs import NUL_MESSAGE, nul_path
from core.shipping import pharmacy_today

from ... import access
from ...models import Prescription
from ..prescriptions import prescription_create
from .codes import ACCEPTED_INTENTS, URGENT_PRIORITIES
from .errors import FhirInvalid, FhirNotPermitted, pydantic_to_fhir_invalid
from .order import request_directions, request_dispense, request_product
from .parties import request_patient, request_prescriber

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest

# Model field -> the request element it comes from, to name the element in errors.
FIELD_ELEMENTS = {
    "route": "dosageInstruction[0].route",
    "product": "medicationCodeableConcept",
    "dose_amount": "dosageInstruction[0].doseAndRate[0].doseQuantity",
    "dose_unit": "dosageInstruction[0].doseAndRate[0].doseQuantity",
    "times_per_day": "dosageInstruction[0].timing",
    "quantity": "dispenseRequest.quantity",
    "refills_authorized": "dispenseRequest.numberOfRepeatsAllowed",
    "days_supply": "dispenseRequest.expectedSupplyDuration",
    "written_date": "authoredOn",
    "valid_until": "dispenseRequest.validityPeriod",
}


def medication_request_import(*, payload: object, user: User, request: HttpRequest | None = None) -> Prescription:
    """Validate a FHIR R4 MedicationRequest and create the prescription it carries.

    ``user`` must be clinic staff (for their clinic's patients) or pharmacy staff. Returns the
    new prescription (status received, findings computed). Raises FhirInvalid (400) naming
    the failing element, FhirNotPermitted (403) for other users.
    """
    if not (access.is_pharmacist(user) or access.is_rx_admin(user) or access.clinic_ids_of(user)):
        raise FhirNotPermitted("Only clinics and pharmacy staff may send MedicationRequests.")
    if not isinstance(payload, dict):
        raise FhirInvalid("MedicationRequest", "Expected a JSON object.")
    where = nul_path(payload)
    if where is not None:  # PostgreSQL text cannot hold it (the API's parser refuses it first)
        raise FhirInvalid(where, NUL_MESSAGE)
    if payload.get("resourceType") != "MedicationRequest":
        raise FhirInvalid("resourceType", "Expected a MedicationRequest.")
    try:
        resource = MedicationRequest.model_validate(payload)
    except PydanticValidationError as exc:
        raise pydantic_to_fhir_invalid(exc) from exc
    except KeyError as exc:  # fhir.resources raises KeyError for an unknown contained resourceType
        raise FhirInvalid("contained", f"Unknown resourceType {exc.args[0] if exc.args else ''!s}.") from exc
    if resource.status != "active":
        raise FhirInvalid("status", f"Only active requests can be dispensed (got {resource.status!r}).")
    if resource.intent not in ACCEPTED_INTENTS:
        raise FhirInvalid("intent", f"A {resource.intent!r} is not an order to dispense.")
    if resource.authoredOn is None:
        raise FhirInvalid("authoredOn", "The written date is required.")
    product = request_product(resource)
    fields: dict[str, Any] = {"product": product, **request_directions(resource, product), **request_dispense(resource)}
    authored = resource.authoredOn
    fields["written_date"] = authored.date() if hasattr(authored, "hour") else authored
    if not isinstance(fields["written_date"], date):
        raise FhirInvalid("authoredOn", "A full date (YYYY-MM-DD) is required.")
    if fields["written_date"] > pharmacy_today() + timedelta(days=1) or fields["written_date"].year < 1900:
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
            patient = request_patient(resource, user, request)
            fields["prescriber"], fields["prescriber_details_submitted"] = request_prescriber(resource)
            return prescription_create(
                user=user, patient=patient, source=Prescription.Source.FHIR, request=request, **fields
            )
    except ValidationError as exc:
        name, messages = next(iter(exc.message_dict.items()))
        raise FhirInvalid(FIELD_ELEMENTS.get(name, name), " ".join(messages)) from exc
