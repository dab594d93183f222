"""Who a MedicationRequest is for and from: its ``subject`` (an existing patient the sender may act
for, or a contained Patient created in the sender's clinic) and its ``requester`` (the prescriber)."""

from __future__ import annotations

import re
from datetime import date
from typing import TYPE_CHECKING, Any

from ... import access
from ...models import ClinicMembership, Patient, Prescriber, date_of_birth_is_possible
from .. import audit
from ..prescriptions import prescriber_get_or_create
from .codes import DEA_SYSTEMS, NPI_SYSTEM
from .errors import FhirAmbiguous, FhirInvalid, fit, fit_field

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.http import HttpRequest
    from fhir.resources.R4B.identifier import Identifier
    from fhir.resources.R4B.medicationrequest import MedicationRequest


def _contained(resource: MedicationRequest, reference: str | None, resource_type: str, element: str) -> Any:
    """The contained resource ``reference`` (``#<id>``) names, checked to be a ``resource_type`` (a
    ``fhir.resources`` Patient or Practitioner); None for a reference that is not to a contained resource."""
    ref = (reference or "").strip()
    if not ref.startswith("#"):
        return None
    for item in resource.contained or []:
        if item.id == ref[1:]:
            if item.get_resource_type() != resource_type:
                raise FhirInvalid(element, f"{ref} is a {item.get_resource_type()}, not a {resource_type}.")
            return item
    raise FhirInvalid(element, f"No contained resource with id {ref[1:]!r}.")


def _sole_clinic(user: User, element: str) -> int:
    clinics = list(ClinicMembership.objects.filter(user=user).values_list("clinic_id", flat=True))
    if len(clinics) != 1:
        raise FhirInvalid(
            element,
            "A contained Patient needs a sender who belongs to exactly one clinic; "
            "reference an existing patient (Patient/<id>) instead.",
        )
    return clinics[0]


def _contained_patient(
    clinic_id: int, given: str, family: str, born: date, sex: str, *, user: User, request: HttpRequest | None
) -> Patient:
    """The clinic's one patient with this name and birth date, or a new one; two such patients are ambiguous (409)."""
    same = list(Patient.objects.filter(clinic_id=clinic_id, first_name=given, last_name=family, date_of_birth=born)[:2])
    if len(same) > 1:
        raise FhirAmbiguous(
            "subject",
            "The contained Patient is ambiguous: more than one patient of the clinic has this name and birth date; "
            "reference the patient as Patient/<id> instead.",
        )
    if same:
        return same[0]
    patient = Patient.objects.create(
        clinic_id=clinic_id, first_name=given, last_name=family, date_of_birth=born, sex=sex
    )
    audit.audit_record(
        user=user, action=audit.Action.CREATE, obj=patient, request=request, detail="FHIR contained Patient"
    )
    return patient


def request_patient(resource: MedicationRequest, user: User, request: HttpRequest | None) -> Patient:
    subject = resource.subject
    if subject is None:
        raise FhirInvalid("subject", "The patient (Patient/<id> or #<contained id>) is required.")
    ref = (subject.reference or "").strip()
    contained = _contained(resource, ref, "Patient", "subject")
    patient: Patient | None
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
        fit(family, 100, "contained.Patient.name.family")
        fit(given, 100, "contained.Patient.name.given")
        sex = {"female": "F", "male": "M", "other": "O"}.get(contained.gender or "", "U")
        return _contained_patient(clinic_id, given, family, born, sex, user=user, request=request)
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


def _identifier(identifiers: list[Identifier] | None, systems: set[str]) -> str:
    for ident in identifiers or []:
        system = (ident.system or "").strip()
        if system in systems or (systems is DEA_SYSTEMS and system.lower().endswith("dea")):
            return (ident.value or "").strip()
    return ""


def request_prescriber(resource: MedicationRequest) -> tuple[Prescriber, dict[str, str]]:
    """The prescriber found (unchanged) or created by NPI, and the details the resource sent about them."""
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
    fit(npi, 10, "requester.identifier")
    fit(_identifier(idents, DEA_SYSTEMS), 9, "requester.identifier")
    fit(name, 200, "requester.name")
    contact = {key: (telecom.get(key) or "").strip() for key in ("phone", "fax", "email")}
    for key, value in contact.items():
        fit_field(Prescriber, key, value, f"requester.telecom.{key}")
    dea_number = _identifier(idents, DEA_SYSTEMS)
    prescriber = prescriber_get_or_create(
        name=name or f"NPI {npi}", npi=npi, dea_number=dea_number, validate=False, **contact
    )
    sent = {"name": name, "npi": npi, "dea_number": dea_number, **contact}
    return prescriber, {key: value for key, value in sent.items() if value}
