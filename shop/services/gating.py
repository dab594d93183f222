"""May a paid order go to fulfilment without a pharmacist? One function answers, one acts on it.

A prescription-required order line is *covered* when an approved, unexpired prescription for
the line's patient and drug has a fill left with at least the line's quantity
(``rx.services.coverage``). The line's patient is the patient of the prescription the shopper
linked to it (``OrderLinePrescription``): the linked prescription is used first; otherwise any
other approved prescription of that patient that covers the line (say a newer one the
pharmacy entered after talking to the prescriber).

Mixed orders (prescription lines and over-the-counter lines): the whole order waits in
``awaiting_prescription_review`` until *every* prescription-required line is covered. The
non-prescription lines ship with it, in one shipment; nothing ships before. A rejected
prescription does not cancel the order: it stays waiting, the pharmacist's reason is shown on
the order (page and ``GET /api/v1/orders/<number>/prescriptions/``), and the shopper may link or
upload another prescription, or cancel (refund).

A prescription covers only its own line's patient and drug (``line_prescription_problem``, the one
rule the links, the kit flow and the gate's fallback all ask): a line whose patient a higher app
knows (``SHOP_ORDER_LINE_PATIENT_PROVIDERS``, e.g. a refill kit's patient) is covered only by that
patient's prescriptions, whatever is linked to it; any other line's patient is its linked
prescription's.

``order_prescription_gate`` is called after every change that may cover an order: a
prescription decided or changing status (``rx.signals``, through
``shop.tasks.order_prescription_gate_task``), and a prescription linked, uploaded or transferred
for the order (``shop.services.prescriptions``). It is
idempotent: it only moves an order that is still waiting and is now covered.
"""

import math
from dataclasses import dataclass, field
from datetime import date

from django.db import transaction

from core.extensions import hooks
from rx.models import Decision, Prescription
from rx.services.coverage import (
    covering_prescriptions,
    prescription_cover_problems,
    prescription_find_cover,
    prescription_fit_problem,
)

from ..models import Order, OrderLine, OrderLinePrescription
from ..state import OrderStatus
from .transitions import Actor, order_get_locked, order_transition

COVERED = "covered"
WAITING = "waiting"
NOT_COVERED = "not_covered"


@dataclass
class LineCover:
    """How one prescription-required line stands: ``covered``, ``waiting`` (nothing linked, or in
    review) or ``not_covered`` (with the reasons a shopper or pharmacist can act on)."""

    line: OrderLine
    status: str
    linked_prescription_id: int | None = None
    prescription: Prescription | None = None  # the covering prescription, when covered
    reasons: list[str] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        return self.status == COVERED

    @property
    def days_supply(self) -> int:
        """Days the line's quantity lasts by the covering prescription (0 when unknown)."""
        rx = self.prescription
        if rx is None or not rx.days_supply:
            return 0
        return max(1, math.floor(rx.days_supply * self.line.quantity / (rx.quantity or self.line.quantity)))

    @property
    def summary(self) -> str:
        """The one sentence the order page and the API show for the line (``line_cover_summary``)."""
        return line_cover_summary(cover=self)


def line_cover_summary(*, cover: LineCover) -> str:
    """Which prescription covers the line and why, or why none does yet, in one sentence.

    The order page, ``GET /api/v1/orders/<number>/`` and its ``prescriptions/`` all show this, from
    the same ``LineCover`` the gate decides on, so they always agree with the order's state.
    """
    rx = cover.prescription
    if cover.covered and rx is not None:
        fills = f"{rx.fills_remaining} fill{'' if rx.fills_remaining == 1 else 's'} left"
        expires = f", expires {rx.expires_on:%Y-%m-%d}" if rx.expires_on else ""
        text = f"Covered by Rx {rx.pk} ({rx.get_status_display().lower()}, {fills}{expires})"
        linked = cover.linked_prescription_id
        return f"{text}, in place of the linked Rx {linked}" if linked and linked != rx.pk else text
    label = "Waiting" if cover.status == WAITING else "Not covered"
    return f"{label}: {' '.join(cover.reasons)}".strip()


def _last_decision_message(rx: Prescription, action: str) -> str:
    decision = rx.decisions.filter(action=action).order_by("-created_at", "-pk").first()
    return decision.message if decision else ""


def line_patient_id(*, line: OrderLine) -> int | None:
    """The patient the line is for when a higher app knows it (``SHOP_ORDER_LINE_PATIENT_PROVIDERS``), else None.

    Each provider is called as ``provider(line=order_line)`` and returns a patient id or None (not
    its line); the first id wins. Without one, the line's patient is its linked prescription's.
    """
    for provider in hooks("SHOP_ORDER_LINE_PATIENT_PROVIDERS"):
        patient_id = provider(line=line)
        if patient_id is not None:
            return int(patient_id)
    return None


def line_prescription_problem(*, line: OrderLine, prescription: Prescription) -> str | None:
    """Why ``prescription`` may never cover ``line`` (another patient than the line's, another drug), or None."""
    return prescription_fit_problem(
        prescription=prescription, patient_id=line_patient_id(line=line), product=line.product
    )


def _link_of(line: OrderLine) -> OrderLinePrescription | None:
    """The line's link, read through its one-to-one (no query when the reads loaded it with the line)."""
    try:
        return line.prescription_link
    except OrderLinePrescription.DoesNotExist:
        return None


def line_cover(*, line: OrderLine, on: date | None = None) -> LineCover:
    """Is ``line`` covered? Linked prescription first, then any covering one of the line's patient.

    A linked prescription that may not cover the line (``line_prescription_problem``) never counts;
    the line's own patient's prescriptions may still cover it.
    """
    link = _link_of(line)
    if link is None:
        return LineCover(
            line=line,
            status=WAITING,
            reasons=["No prescription linked yet: upload one or link an existing prescription."],
        )
    rx = link.prescription
    quantity = line.quantity
    problem = line_prescription_problem(line=line, prescription=rx)
    patient_id = line_patient_id(line=line) or rx.patient_id
    linked = (
        None
        if problem
        else covering_prescriptions(patient=patient_id, product=line.product, on=on)
        .filter(pk=rx.pk, fills_remaining__gte=1, quantity_remaining__gte=quantity, quantity__gte=quantity)
        .first()
    )
    cover = linked or prescription_find_cover(patient=patient_id, product=line.product, quantity=quantity, on=on)
    if cover is not None:
        return LineCover(line=line, status=COVERED, linked_prescription_id=rx.pk, prescription=cover)
    if problem:
        mismatch = f"{problem[0].upper()}{problem[1:]} Link a prescription of the line's own patient and drug."
        reasons = prescription_cover_problems(patient=patient_id, product=line.product, quantity=quantity, on=on)
        return LineCover(line=line, status=NOT_COVERED, linked_prescription_id=rx.pk, reasons=[*reasons, mismatch])
    return _uncovered(line=line, rx=rx, patient_id=patient_id, on=on)


def _uncovered(*, line: OrderLine, rx: Prescription, patient_id: int, on: date | None) -> LineCover:
    """The cover of a line whose linked prescription (``rx``, of the line's patient) does not cover it: why not."""
    Status = Prescription.Status
    if rx.status in (Status.RECEIVED, Status.IN_REVIEW):
        return LineCover(
            line=line,
            status=WAITING,
            linked_prescription_id=rx.pk,
            reasons=[f"Prescription {rx.pk} is waiting for pharmacist verification."],
        )
    if rx.status == Status.NEEDS_INFORMATION:
        question = _last_decision_message(rx, Decision.Action.REQUEST_INFO)
        return LineCover(
            line=line,
            status=WAITING,
            linked_prescription_id=rx.pk,
            reasons=[f"Prescription {rx.pk}: the pharmacist needs more information. {question}".strip()],
        )
    if rx.status == Status.REJECTED:
        reason = _last_decision_message(rx, Decision.Action.REJECT)
        return LineCover(
            line=line,
            status=NOT_COVERED,
            linked_prescription_id=rx.pk,
            reasons=[f"Prescription {rx.pk} was not accepted: {reason}".strip()],
        )
    problems = prescription_cover_problems(patient=patient_id, product=line.product, quantity=line.quantity, on=on)
    return LineCover(
        line=line,
        status=NOT_COVERED,
        linked_prescription_id=rx.pk,
        reasons=problems or [f"Prescription {rx.pk} does not cover this line."],
    )


def order_rx_status(*, order: Order, on: date | None = None) -> list[LineCover]:
    """The cover of every prescription-required line of ``order``, in line order."""
    lines = (
        order.lines.filter(rx_required=True)
        .select_related("product", "order", "prescription_link__prescription")
        .order_by("pk")
    )
    return [line_cover(line=line, on=on) for line in lines]


def order_rx_covered(*, order: Order) -> bool:
    """True when every prescription-required line of ``order`` is covered (no such line: True)."""
    return all(c.covered for c in order_rx_status(order=order))


def order_prescription_gate(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Move an order waiting for prescription review to ``ready_to_fulfil`` once it is covered.

    Does nothing (and returns the order) when the order is not waiting or is still not covered.
    """
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if locked.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW and order_rx_covered(order=locked):
            order_transition(
                order=locked, to=OrderStatus.READY_TO_FULFIL, actor=actor, reason=reason or "Prescriptions verified."
            )
    order.refresh_from_db()
    return order


def orders_waiting_on_prescription(*, prescription_id: int) -> list[int]:
    """Ids of orders waiting for review with a line linked to the prescription or to another
    prescription of the same patient (an approval of either may cover them)."""
    patient_id = Prescription.objects.filter(pk=prescription_id).values_list("patient_id", flat=True).first()
    if patient_id is None:
        return []
    return sorted(
        set(
            OrderLinePrescription.objects.filter(
                prescription__patient_id=patient_id, order_line__order__status=OrderStatus.AWAITING_PRESCRIPTION_REVIEW
            ).values_list("order_line__order_id", flat=True)
        )
    )


OPEN = frozenset(
    {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAYMENT_FAILED,
        OrderStatus.PAID,
        OrderStatus.AWAITING_PRESCRIPTION_REVIEW,
        OrderStatus.READY_TO_FULFIL,
        OrderStatus.FULFILLING,
    }
)  # not yet filled: a prescription approved now may still come to cover the order


def prescription_could_cover_orders_of(*, prescription: Prescription, user_id: int) -> bool:
    """Whether ``prescription`` covers, or could come to cover, an open order ``user_id`` placed.

    Every way a prescription comes to cover a line counts, not only a link to it: the gate's
    fallback takes any approved prescription of the line's patient (``line_patient_id``, else its
    linked prescription's patient) for the line's drug. A prescription naming no drug yet (an upload
    not transcribed) counts for every prescription line of its patient.
    """
    drug_id = prescription.drug_id
    if drug_id is None and prescription.product_id is not None:
        drug_id = Prescription.objects.filter(pk=prescription.pk).values_list("product__drug_id", flat=True).first()
    lines = OrderLine.objects.filter(order__user_id=user_id, order__status__in=OPEN, rx_required=True)
    if drug_id is not None:
        lines = lines.filter(product__drug_id=drug_id)
    links = dict(
        OrderLinePrescription.objects.filter(order_line__in=lines).values_list(
            "order_line_id", "prescription__patient_id"
        )
    )
    for line in lines.select_related("product"):
        if line.pk in links and links[line.pk] == prescription.patient_id:
            return True
        if line_patient_id(line=line) == prescription.patient_id:
            return True
    return False


def order_prescription_gate_by_id(*, order_id: int, actor: Actor = "system") -> str | None:
    """Task body: gate one order by id; return its status (None when it no longer exists)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        return None
    return order_prescription_gate(order=order, actor=actor).status
