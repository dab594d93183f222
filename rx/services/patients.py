"""Creating and updating patients (a shopper's own, or a clinic's), each write with its audit row."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from core.errors import DomainError

from .. import access
from ..models import Patient
from . import audit

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

    from catalog.models import Product

EDITABLE = (
    "first_name",
    "last_name",
    "date_of_birth",
    "sex",
    "pregnancy_status",
    "is_lactating",
    "allergies",
    "renal_impairment",
    "current_medications_text",
)


class NotPatientOwner(DomainError):
    status_code = 403
    code = "permission_denied"


def patient_create(
    *,
    user: User,
    clinic_id: int | str | None = None,
    current_products: Iterable[Product | int] | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Patient:
    """Create a patient on the user's account, or for ``clinic_id`` when the user works there.

    A clinic the user does not belong to is answered as not found (400 on ``clinic``).
    """
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    if clinic_id is not None:
        if int(clinic_id) not in access.clinic_ids_of(user):
            raise ValidationError({"clinic": ["No such clinic among yours."]})
        patient = Patient(clinic_id=int(clinic_id), **fields)
    else:
        patient = Patient(account=user, **fields)
    patient.full_clean()
    with transaction.atomic():
        patient.save()
        if current_products:
            patient.current_products.set(current_products)
        audit.audit_record(user=user, action=audit.Action.CREATE, obj=patient, request=request)
    return patient


def patient_update(
    *,
    user: User | AnonymousUser,
    patient_id: int | str,
    current_products: Iterable[Product | int] | None = None,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Patient:
    """Update a patient's details; only its owner (account or clinic staff) may.

    Someone who cannot see the patient gets 'not found'; someone who can see it but does not
    own it (a pharmacist reviewing it) gets 403.
    """
    if not access.patients_owned_by(user).filter(pk=patient_id).exists():
        access.patient_for(user, patient_id)  # 404 unless visible
        raise NotPatientOwner("Only the patient's account or clinic can change these details.")
    patient = Patient.objects.get(pk=patient_id)
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in sorted(unknown)})
    for name, value in fields.items():
        setattr(patient, name, value)
    patient.full_clean()
    with transaction.atomic():
        patient.save()
        if current_products is not None:
            patient.current_products.set(current_products)
        changed = sorted([*fields, *(["current_products"] if current_products is not None else [])])
        audit.audit_record(
            user=user, action=audit.Action.CHANGE, obj=patient, request=request, detail="changed: " + ", ".join(changed)
        )
    return patient


def patient_save(
    *,
    user: User | AnonymousUser,
    patient: Patient,
    changed_fields: Iterable[str],
    via: str = "admin",
    request: HttpRequest | None = None,
) -> Patient:
    """Save a patient a form has already validated (the admin's) and write its audit row: a create
    or a change, naming ``changed_fields``."""
    action = audit.Action.CREATE if patient._state.adding else audit.Action.CHANGE
    with transaction.atomic():
        patient.save()
        audit.audit_record(
            user=user, action=action, obj=patient, request=request, detail=f"{via}: " + ", ".join(changed_fields)
        )
    return patient
