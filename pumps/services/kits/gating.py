"""The prescription gate of kit orders: a kit ships only under an approved intrathecal prescription.

A kit's order is gated like every prescription order (``shop.services.gating``): its line is linked
to the patient's prescription, ``paid`` -> ``awaiting_prescription_review`` -> ``ready_to_fulfil``
once ``rx.services.coverage`` covers it. While it waits, the patient's queued intrathecal
prescriptions are marked urgent (first in the pharmacist's queue). See ``pumps.services.kits``.
"""

from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Route
from pumps.models import KitAlert, KitOrder
from rx.models import Prescription
from rx.services.coverage import prescription_find_cover
from rx.services.prescriptions import prescription_mark_urgent
from shop.models import Order, OrderLinePrescription
from shop.services.gating import line_prescription_problem, order_prescription_gate
from shop.services.transitions import SYSTEM, order_get_locked, order_transition
from shop.state import OrderStatus

from .alerts import kit_alerts_close

__all__ = ["kit_prescription_gate", "kit_order_gate", "kits_prescription_changed"]

S = OrderStatus
Reason = KitAlert.Reason


def _covering_prescription(kit: KitOrder) -> Prescription | None:
    return prescription_find_cover(patient=kit.patient_id, product=kit.product, quantity=kit.quantity)


def _mark_queue_urgent(kit: KitOrder) -> list[int]:
    """Put the patient's queued intrathecal prescriptions first in the pharmacist's queue."""
    ids = list(
        Prescription.objects.filter(patient_id=kit.patient_id, status__in=Prescription.QUEUE_STATUSES)
        .filter(
            Q(route=Route.INTRATHECAL)
            | Q(product__route=Route.INTRATHECAL)
            | Q(product__is_refill_kit=True)
            | Q(product=kit.product)
        )
        .values_list("pk", flat=True)
    )
    for pk in ids:
        prescription_mark_urgent(prescription_id=pk, reason=f"Pump refill kit waiting (kit order {kit.pk})")
    return ids


def _link_prescription(kit: KitOrder, order: Order) -> int | None:
    """Link the kit's line to the patient's prescription, as a shopper links theirs (shared gating).

    The covering one if any, else the newest queued or decided intrathecal one of the patient. A link
    the shop's rule refuses (another patient's prescription, another drug) is replaced, or removed when
    the patient has none: only the kit's own patient's prescription may cover it.
    """
    line = order.lines.select_related("product").earliest("pk")  # a kit's order has one line
    link = OrderLinePrescription.objects.filter(order_line=line).select_related("prescription").first()
    if link is not None and line_prescription_problem(line=line, prescription=link.prescription) is None:
        return link.prescription_id
    cover = _covering_prescription(kit)
    target = cover or (
        Prescription.objects.filter(patient_id=kit.patient_id)
        .filter(Q(route=Route.INTRATHECAL) | Q(product__route=Route.INTRATHECAL))
        .exclude(status__in=[Prescription.Status.REJECTED, Prescription.Status.EXPIRED])
        .order_by("-created_at", "-pk")
        .first()
    )
    if target is not None and line_prescription_problem(line=line, prescription=target) is not None:
        target = None
    if target is None:
        OrderLinePrescription.objects.filter(order_line=line).delete()
        return None
    OrderLinePrescription.objects.update_or_create(order_line=line, defaults={"prescription": target})
    return target.pk


def kit_prescription_gate(*, kit: KitOrder, order: Order, now: datetime) -> None:
    """The prescription gate of a paid kit order: the same gate as every prescription order.

    paid -> awaiting_prescription_review, then ``gating.order_prescription_gate`` moves it to
    ready_to_fulfil once ``order_rx_covered`` (``rx.services.coverage``) covers the line. The system
    makes these transitions, whoever ordered the kit.
    """
    _link_prescription(kit, order)
    if order.status == S.PAID:
        order_transition(
            order=order,
            to=S.AWAITING_PRESCRIPTION_REVIEW,
            actor=SYSTEM,
            reason="Pump refill kit: an approved intrathecal prescription must cover it (urgent).",
        )
    if order.status == S.AWAITING_PRESCRIPTION_REVIEW:
        order_prescription_gate(order=order, actor=SYSTEM, reason="Covered by an approved intrathecal prescription.")
    if order.status == S.READY_TO_FULFIL:
        kit_alerts_close(
            kit_order_id=kit.pk, reasons=[Reason.NO_APPROVAL], now=now, resolution="Prescription approved."
        )
    else:
        _mark_queue_urgent(kit)


def kit_order_gate(*, kit_order_id: int, now: datetime | None = None) -> KitOrder:
    """Re-check a waiting kit order against the patient's prescriptions; move it on once covered."""
    now = now or timezone.now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).select_related("product", "clinic").get(pk=kit_order_id)
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            kit_prescription_gate(kit=kit, order=order, now=now)
    return kit


def kits_prescription_changed(*, prescription_id: int) -> list[int]:
    """A prescription changed: gate the patient's waiting kit orders (or mark it urgent if one waits)."""
    rx = Prescription.objects.filter(pk=prescription_id).first()
    if rx is None:
        return []
    waiting = list(
        KitOrder.objects.filter(
            patient_id=rx.patient_id, status__in=KitOrder.PENDING, order__status=S.AWAITING_PRESCRIPTION_REVIEW
        ).values_list("pk", flat=True)
    )
    for pk in waiting:
        kit_order_gate(kit_order_id=pk)
    return waiting
