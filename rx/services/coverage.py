"""Is an order line covered by a prescription, and filling it.

Called by the shop (rx never imports it):

- ``prescription_find_cover(patient=, product=, quantity=, on=)`` -> the prescription that
  covers the line, or None; ``prescription_cover_problems(...)`` says why not, in words a
  shopper or pharmacist can act on.
- ``prescription_fill(prescription_id=, quantity=, reference=, ...)`` -> the ``Dispense``. It
  uses up one fill and ``quantity`` units with one conditional UPDATE, so two fills racing
  for the last refill cannot both succeed: the loser gets ``PrescriptionExhausted`` (409)
  with the reason. Calling it again with the same ``reference`` returns the same dispense
  (idempotent, for retried tasks).
- ``dispense_hand_over(dispense_id=, at=)`` records the hand-over (never before preparation).
- ``prescription_fit_problem(prescription=, patient_id=, product=)`` -> why the prescription may
  never cover a line for that patient and product (another patient, another drug), or None: the one
  rule every way a prescription comes to cover a line asks (a link, the kit flow's link, the gate).

A prescription covers a line when it is approved, not expired on the day, for the same
patient, for the product itself, or (substitution allowed, or no SKU written) for another
product of the same drug, route and strength, and it has a fill left with at least the
line's quantity, within the quantity per fill.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import TYPE_CHECKING

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import Product
from core.errors import Conflict, NotFound
from core.shipping import pharmacy_today

from ..models import Dispense, Patient, Prescription

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.db.models import QuerySet

Status = Prescription.Status


class PrescriptionExhausted(Conflict):
    """The prescription cannot cover this fill any more (used up, expired, not approved).

    ``data["reason"]`` is one of: not_approved, expired, no_fills_left, not_enough_quantity,
    over_quantity_per_fill.
    """

    code = "prescription_exhausted"


def _today() -> date:
    return pharmacy_today()


def _matches_product_q(product: Product) -> Q:
    same_generic = Q(
        drug_id=product.drug_id, route=product.route, strength=product.strength, strength_unit=product.strength_unit
    )
    return Q(product=product) | (same_generic & (Q(substitution_allowed=True) | Q(product__isnull=True)))


def prescription_fit_problem(*, prescription: Prescription, patient_id: int | None, product: Product) -> str | None:
    """Why ``prescription`` may never cover a line of ``product`` for patient ``patient_id``, or None.

    A prescription covers only its own patient's line (``patient_id`` None: the line's patient is
    not known apart from its prescriptions) and only the drug it was written for (a prescription
    not yet transcribed names no drug: the pharmacist checks it in review, and it covers nothing
    until then). The words name what is wrong, for a 4xx or a line's reasons.
    """
    if patient_id is not None and prescription.patient_id != patient_id:
        return f"prescription {prescription.pk} is for another patient than this line's."
    drug_id = prescription.drug_id
    if drug_id is None and prescription.product_id is not None:
        drug_id = Product.objects.filter(pk=prescription.product_id).values_list("drug_id", flat=True).first()
    if drug_id is not None and drug_id != product.drug_id:
        return f"prescription {prescription.pk} is for another drug than {product.name}."
    return None


def covering_prescriptions(
    *, patient: Patient | int, product: Product, on: date | None = None
) -> QuerySet[Prescription]:
    """Approved, unexpired prescriptions of the patient that may be dispensed as ``product``."""
    on = on or _today()
    return Prescription.objects.filter(patient=patient, status=Status.APPROVED, expires_on__gte=on).filter(
        _matches_product_q(product)
    )


def prescription_find_cover(
    *, patient: Patient | int, product: Product, quantity: int, on: date | None = None
) -> Prescription | None:
    """Return the prescription that covers ``quantity`` of ``product`` for ``patient`` on
    ``on`` (default today), or None. Prefers the SKU written, then the soonest to expire."""
    if quantity <= 0:
        return None
    candidates = (
        covering_prescriptions(patient=patient, product=product, on=on)
        .filter(fills_remaining__gte=1, quantity_remaining__gte=quantity, quantity__gte=quantity)
        .order_by("expires_on", "pk")
    )
    best = None
    for rx in candidates:
        if rx.product_id == product.pk:
            return rx
        best = best or rx
    return best


def prescription_cover_problems(
    *, patient: Patient | int, product: Product, quantity: int, on: date | None = None
) -> list[str]:
    """Explain why no prescription covers the line (empty when one does)."""
    if prescription_find_cover(patient=patient, product=product, quantity=quantity, on=on):
        return []
    on = on or _today()
    mine = Prescription.objects.filter(patient=patient).filter(_matches_product_q(product))
    if not mine.exists():
        return [f"No prescription for {product.name} on file for this patient."]
    problems = []
    for rx in mine.order_by("-created_at")[:5]:
        problems.append(f"Prescription {rx.pk}: {_why_not(rx, quantity, on)}")
    return problems


def _why_not(rx: Prescription, quantity: int, on: date) -> str:
    if rx.status in Prescription.QUEUE_STATUSES:
        return "waiting for pharmacist verification."
    if rx.status != Status.APPROVED:
        return f"{rx.get_status_display().lower()}."
    if rx.is_expired_on(on):
        return f"expired on {rx.expires_on:%Y-%m-%d}."
    if rx.fills_remaining < 1:
        return "no refills left; ask the prescriber for a new prescription."
    if rx.quantity is not None and quantity > rx.quantity:
        return f"a fill is at most {rx.quantity} units; {quantity} were ordered."
    if rx.quantity_remaining < quantity:
        return f"only {rx.quantity_remaining} units left; {quantity} were ordered."
    return "does not cover this line."


def _exhausted(rx_id: int, quantity: int, on: date) -> PrescriptionExhausted:
    rx = Prescription.objects.select_related("drug").get(pk=rx_id)
    if rx.status != Status.APPROVED:
        reason = "not_approved"
    elif rx.is_expired_on(on):
        reason = "expired"
    elif rx.fills_remaining < 1:
        reason = "no_fills_left"
    elif rx.quantity is not None and quantity > rx.quantity:
        reason = "over_quantity_per_fill"
    else:
        reason = "not_enough_quantity"
    return PrescriptionExhausted(
        f"Prescription {rx.pk} cannot cover {quantity} units: {_why_not(rx, quantity, on)}",
        data={
            "reason": reason,
            "prescription": rx.pk,
            "fills_remaining": rx.fills_remaining,
            "quantity_remaining": rx.quantity_remaining,
        },
    )


def prescription_fill(
    *,
    prescription_id: int,
    quantity: int,
    reference: str,
    days_supply: int | None = None,
    product: Product | None = None,
    dispensed_by: User | None = None,
    prepared_at: datetime | None = None,
    on: date | None = None,
) -> Dispense:
    """Use up one fill and ``quantity`` units of the prescription and record the ``Dispense``.

    ``reference`` names what the fill is for (e.g. ``"order:PH-1234:line:5"``); a second call
    with the same reference returns the first dispense and uses up nothing. ``days_supply``
    defaults to the prescription's, scaled to the quantity. Raises PrescriptionExhausted (409)
    when the prescription cannot cover the fill (someone else took the last refill, expired,
    not approved), NotFound when there is no such prescription.
    """
    if quantity <= 0:
        raise Conflict("A fill needs a positive quantity.", code="invalid_quantity")
    on = on or _today()
    existing = Dispense.objects.filter(prescription_id=prescription_id, reference=reference).first()
    if existing:
        return existing
    try:
        with transaction.atomic():
            _fill_use_up(prescription_id=prescription_id, quantity=quantity, on=on)
            rx = Prescription.objects.select_related("product").get(pk=prescription_id)
            if days_supply is None:
                days_supply = max(1, math.floor((rx.days_supply or 1) * quantity / (rx.quantity or quantity)))
            return Dispense.objects.create(
                prescription=rx,
                product=product or rx.product,
                quantity=quantity,
                days_supply=days_supply,
                reference=reference,
                prepared_at=prepared_at or timezone.now(),
                dispensed_by=dispensed_by,
            )
    except IntegrityError:
        # The same reference was filled concurrently: the other call's dispense stands.
        existing = Dispense.objects.filter(prescription_id=prescription_id, reference=reference).first()
        if existing:
            return existing
        raise


def _fill_use_up(*, prescription_id: int, quantity: int, on: date) -> None:
    """Take one fill and ``quantity`` units off the prescription in one guarded UPDATE, or raise."""
    used = Prescription.objects.filter(
        pk=prescription_id,
        status=Status.APPROVED,
        expires_on__gte=on,
        fills_remaining__gte=1,
        quantity_remaining__gte=quantity,
        quantity__gte=quantity,
    ).update(
        fills_remaining=F("fills_remaining") - 1,
        quantity_remaining=F("quantity_remaining") - quantity,
        updated_at=timezone.now(),
    )
    if not used:
        if not Prescription.objects.filter(pk=prescription_id).exists():
            raise NotFound("Prescription not found.")
        raise _exhausted(prescription_id, quantity, on)


def dispense_hand_over(*, dispense_id: int, at: datetime | None = None) -> Dispense:
    """Record that the dispense was handed over (to the carrier or the patient). Idempotent."""
    at = at or timezone.now()
    dispense = Dispense.objects.get(pk=dispense_id)
    if dispense.handed_over_at:
        return dispense
    if at < dispense.prepared_at:
        raise Conflict("A dispense cannot be handed over before it was prepared.", code="handed_over_too_early")
    Dispense.objects.filter(pk=dispense_id, handed_over_at__isnull=True).update(handed_over_at=at)
    dispense.refresh_from_db()
    return dispense
