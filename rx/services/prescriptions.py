"""Creating prescriptions and moving them through their states.

``prescription_transition`` is the only writer of ``Prescription.status``. It checks the move
against ``Prescription.TRANSITIONS``, changes the row with a conditional UPDATE (so two
pharmacists acting at once cannot both move it) and writes the ``PrescriptionEvent`` in the
same transaction. Entering review recomputes the DUR findings.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from catalog.models import Product, Route
from core.errors import Conflict
from core.shipping import pharmacy_today

from .. import access, identifiers
from ..models import Patient, Prescriber, Prescription, PrescriptionEvent
from ..signals import prescription_status_changed
from . import audit
from .dur import prescription_findings_refresh

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User
    from django.http import HttpRequest

Status = Prescription.Status


class InvalidTransition(Conflict):
    code = "invalid_transition"


def _now() -> datetime:
    return timezone.now()


def prescription_transition(
    *, prescription: Prescription, to_status: str, actor: User | None = None, note: str = ""
) -> Prescription:
    """Move ``prescription`` to ``to_status`` if its state machine allows it; record the event.

    Raises InvalidTransition (409) when the move is not allowed from the current status, or
    when another request changed the status first.
    """
    from_status = prescription.status
    if not prescription.can_transition(to_status):
        raise InvalidTransition(
            f"A prescription that is {prescription.get_status_display().lower()} cannot become "
            f"{Status(to_status).label.lower()}.",
            data={"status": from_status},
        )
    with transaction.atomic():
        moved = Prescription.objects.filter(pk=prescription.pk, status=from_status).update(
            status=to_status, updated_at=_now()
        )
        if not moved:
            current = Prescription.objects.values_list("status", flat=True).get(pk=prescription.pk)
            raise InvalidTransition(
                f"The prescription changed meanwhile; it is now {current}.", data={"status": current}
            )
        PrescriptionEvent.objects.create(
            prescription=prescription,
            from_status=from_status,
            to_status=to_status,
            actor=actor if getattr(actor, "is_authenticated", False) else None,
            note=note,
        )
        prescription.status = to_status
        if to_status == Status.IN_REVIEW:
            prescription_findings_refresh(prescription=prescription)
        pk = prescription.pk
        transaction.on_commit(
            lambda: prescription_status_changed.send(
                sender=Prescription, prescription_id=pk, from_status=from_status, to_status=to_status
            )
        )
    return prescription


def _default_priority(*, route: str, product: Product | None) -> tuple[int, str]:
    if product is not None and product.is_refill_kit:
        return Prescription.Priority.URGENT, "Pump refill kit"
    if route == Route.INTRATHECAL:
        return Prescription.Priority.URGENT, "Intrathecal therapy (abrupt stop is dangerous)"
    return Prescription.Priority.ROUTINE, ""


def prescription_create(
    *,
    user: User | AnonymousUser | None,
    patient: Patient,
    source: str,
    request: HttpRequest | None = None,
    **fields: Any,
) -> Prescription:
    """Create a prescription in ``received`` with its first event, findings and audit row.

    ``fields`` are model fields (product, drug, prescriber, directions, quantities, file...).
    Validated with ``full_clean`` (field validators mirror the check constraints, which the
    database enforces; running them as queries would cost one round trip each); errors name the
    field (400). Intrathecal prescriptions and
    pump refill kits are queued as urgent.
    """
    rx = Prescription(
        patient=patient, source=source, created_by=user if user and user.is_authenticated else None, **fields
    )
    if not rx.priority:
        product = rx.product if rx.product_id else None
        rx.priority, rx.priority_reason = _default_priority(
            route=rx.route or (product.route if product else ""), product=product
        )
    rx.full_clean(exclude=["file"], validate_constraints=False)
    with transaction.atomic():
        rx.save()
        PrescriptionEvent.objects.create(
            prescription=rx,
            from_status="",
            to_status=Status.RECEIVED,
            actor=rx.created_by,
            note=f"Received ({rx.get_source_display()}).",
        )
        if rx.drug_id:
            prescription_findings_refresh(prescription=rx)
        audit.audit_record(user=user, action=audit.Action.CREATE, obj=rx, request=request, detail=f"source={source}")
    return rx


def prescriber_get_or_create(
    *,
    name: str,
    npi: str = "",
    dea_number: str = "",
    practice: str = "",
    phone: str = "",
    fax: str = "",
    email: str = "",
    validate: bool = True,
) -> Prescriber:
    """Return the prescriber with this NPI as it is, or create one with these details.

    An existing prescriber is shared by every prescription naming its NPI, so what a sender types
    never changes it (not even its blank fields): the caller keeps the submitted details on the
    prescription (``prescriber_details_submitted``) and a pharmacist corrects the record in the admin.

    ``validate=True`` (people typing into a form) rejects numbers failing their check digit
    with a 400 naming the field. ``validate=False`` (records from another system) keeps them
    as sent; the DUR check then reports them to the pharmacist (finding PN).
    """
    npi, dea_number = (npi or "").strip(), (dea_number or "").strip().upper()
    if validate:
        errors: dict[str, list[str]] = {}
        if npi and not identifiers.npi_is_valid(npi):
            errors["npi"] = ["NPI must be 10 digits starting with 1 or 2 with a valid check digit."]
        if dea_number and not identifiers.dea_is_valid(dea_number):
            errors["dea_number"] = ["DEA number must be two letters and seven digits with a valid check digit."]
        if not (name or "").strip():
            errors["name"] = ["The prescriber's name is required."]
        if errors:
            raise ValidationError(errors)
    details = {
        "name": name.strip(),
        "practice": practice,
        "dea_number": dea_number,
        "phone": phone,
        "fax": fax,
        "email": email,
    }
    if npi:
        prescriber, _ = Prescriber.objects.get_or_create(npi=npi, defaults=details)
        return prescriber
    return Prescriber.objects.create(npi="", **details)


def prescription_transfer_request(
    *,
    user: User | AnonymousUser,
    patient_id: int | str,
    prescriber: dict[str, Any],
    product_id: int | None = None,
    transfer_pharmacy: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
) -> Prescription:
    """Record a shopper's request that we obtain a prescription from their prescriber (no file).

    ``prescriber``: name (required), npi, dea_number, practice, phone, fax, email; kept as sent on
    the prescription (``prescriber_details_submitted``), while an existing prescriber with that NPI
    is linked unchanged. The patient must be the user's own (or their clinic's); anyone else's is
    'not found'.
    """
    patient = access.owned_patient_for(user, patient_id)
    product = None
    if product_id is not None:
        product = Product.objects.filter(pk=product_id, is_active=True).first()
        if product is None:
            raise ValidationError({"product": ["No such product."]})
    try:
        doctor = prescriber_get_or_create(**prescriber, validate=True)
    except ValidationError as exc:
        raise ValidationError({f"prescriber_{k}": v for k, v in exc.message_dict.items()}) from exc
    submitted = {key: str(value).strip() for key, value in prescriber.items() if value and str(value).strip()}
    return prescription_create(
        user=user,
        patient=patient,
        source=Prescription.Source.TRANSFER,
        request=request,
        prescriber=doctor,
        prescriber_details_submitted=submitted,
        product=product,
        transfer_pharmacy=transfer_pharmacy,
        notes=notes,
    )


def prescription_start_review(
    *, prescription: Prescription, user: User | AnonymousUser, request: HttpRequest | None = None
) -> Prescription:
    """Take a received prescription into review (recomputing findings). No-op in other states."""
    if prescription.status == Status.RECEIVED and access.can_review(user):
        prescription_transition(
            prescription=prescription, to_status=Status.IN_REVIEW, actor=user, note="Opened for review."
        )
    return prescription


def prescription_review_open(
    *, prescription: Prescription, user: User | AnonymousUser, request: HttpRequest | None = None
) -> Prescription:
    """Open ``prescription``'s review page for ``user``: take it into review when it waits in the
    queue (``prescription_start_review``), and audit that the prescription and its patient were seen."""
    if prescription.status in Prescription.QUEUE_STATUSES:
        prescription_start_review(prescription=prescription, user=user, request=request)
    audit.audit_record(user=user, action=audit.Action.VIEW, obj=prescription, request=request, detail="review")
    audit.audit_record(
        user=user,
        action=audit.Action.VIEW,
        obj=prescription.patient,
        request=request,
        detail=f"review of prescription {prescription.pk}",
    )
    return prescription


def prescription_update(
    *,
    prescription: Prescription,
    user: User | AnonymousUser,
    changes: dict[str, Any],
    request: HttpRequest | None = None,
) -> Prescription:
    """Apply a pharmacist's transcription or correction of the structured fields.

    Only while the prescription waits for verification; the findings are recomputed and the
    change is audited.
    """
    if prescription.status not in Prescription.QUEUE_STATUSES:
        raise Conflict("Only prescriptions waiting for verification can be edited.", code="not_editable")
    for name, value in changes.items():
        setattr(prescription, name, value)
    if prescription.priority == Prescription.Priority.ROUTINE:
        prescription.priority, prescription.priority_reason = _default_priority(
            route=prescription.route, product=prescription.product if prescription.product_id else None
        )
    prescription.full_clean(exclude=["file"], validate_constraints=False)
    with transaction.atomic():
        prescription.save()
        prescription_findings_refresh(prescription=prescription)
        audit.audit_record(
            user=user,
            action=audit.Action.CHANGE,
            obj=prescription,
            request=request,
            detail="changed: " + ", ".join(sorted(changes)),
        )
    return prescription


def prescription_mark_urgent(*, prescription_id: int, reason: str) -> None:
    """Move a prescription to the front of the verification queue (hook for the shop: a pump
    refill kit order is waiting on it). Idempotent."""
    Prescription.objects.filter(pk=prescription_id).exclude(priority=Prescription.Priority.URGENT).update(
        priority=Prescription.Priority.URGENT, priority_reason=reason[:200], updated_at=_now()
    )


def prescriptions_expire(*, today: date | None = None) -> list[int]:
    """Mark prescriptions past their expiry date as expired; return their ids. Idempotent."""
    today = today or pharmacy_today(_now())
    ids = list(
        Prescription.objects.filter(expires_on__lt=today)
        .exclude(status__in=[Status.EXPIRED, Status.REJECTED])
        .values_list("pk", flat=True)
    )
    done = []
    for rx in Prescription.objects.filter(pk__in=ids):
        try:
            prescription_transition(prescription=rx, to_status=Status.EXPIRED, note=f"Expired on {rx.expires_on}.")
            done.append(rx.pk)
        except InvalidTransition:
            continue
    return done
