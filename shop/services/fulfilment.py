"""Fulfilment: pick, fill, pack and ship a paid, covered order; e-mail the shopper at each step.

``order_fulfil(order_id=)`` is the one entry point (the Celery task ``order_fulfil_task`` and the
refill-kit dispatch call it). It runs in three steps, each safe to repeat, so a worker killed
at any point leaves an order that the redelivered task (or the ``orders_fulfil_stuck`` sweep)
finishes, and never ships twice:

1. ``ready_to_fulfil`` -> ``fulfilling`` (committed on its own: the order is never lost).
2. One transaction, holding the order's row lock: allocate every line from stock (first
   expiring first out, never a lot that expires before the days supply ends plus
   ``settings.FULFILMENT_EXPIRY_MARGIN_DAYS``), record the dispense of every prescription line
   (``rx.services.coverage.prescription_fill``, reference ``order:<number>:line:<id>``), write
   the ``Shipment`` and its pick list. A worker killed inside this step leaves nothing behind
   (PostgreSQL rolls the transaction back); the ``Shipment`` (one per order, unique) marks the
   step done. A refill race lost at fill time (``PrescriptionExhausted``) or a prescription no
   longer covering rolls the step back, returns any allocation (``stock_return``) and sends the
   order back to ``awaiting_prescription_review`` with the reason.
3. Book the carrier (idempotency key ``shipment:<id>``; the tracking number is stored before
   the status changes), then ``fulfilling`` -> ``shipped`` and the dispenses are handed over.

Delivery: ``shipments_track()`` (beat) asks the carrier and marks delivered orders
(``order_mark_delivered``, which also runs the catalogue's verified-purchase hook); the
admin's "mark delivered" action works too.

E-mails (``order_notify``): confirmed (paid), shipped (with tracking) and delivered, each at
most once per order (``OrderNotification`` is unique per order and kind). Prescription
decisions are e-mailed by rx (``rx.services.verification.decision_notify``), not here.

Extension point: ``settings.SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS`` (dotted paths, none by
default) are called in step 2, inside its transaction, once every line is allocated and before any
dispense is recorded, with ``order=`` and ``picks=`` (``[(line, allocations)]``). The killed-worker
test holds a worker there to kill it mid-step.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import timezone

from catalog.services.stock import InsufficientStock, stock_allocate, stock_return
from core.extensions import hooks
from core.shipping import pharmacy_today
from rx.models import Dispense
from rx.services.coverage import PrescriptionExhausted, dispense_hand_over, prescription_fill

from ..carriers import DELIVERED, carrier_get
from ..models import Order, OrderLine, OrderNotification, Shipment, ShipmentLine
from ..state import OrderStatus
from .gating import order_rx_status
from .orders import order_mark_delivered
from .transitions import order_get_locked, order_transition

log = logging.getLogger(__name__)

FULFILMENT = "fulfilment"


class NotCoveredAtFill(Exception):
    """A prescription line is no longer covered when the order is filled."""

    def __init__(self, reasons: list[str]):
        super().__init__(" ".join(reasons))
        self.reasons = reasons


def line_reference(order: Order, line: OrderLine) -> str:
    """The dispense reference of an order line (unique per prescription in rx)."""
    return f"{order.stock_reference}:line:{line.pk}"


def order_fulfil(*, order_id: int) -> str | None:
    """Fulfil the order if it is ready (or finish it if it is fulfilling); return its status.

    Any other status is left alone (already shipped: nothing to do). None: no such order.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return None
        if order.status == OrderStatus.READY_TO_FULFIL:
            order_transition(order=order, to=OrderStatus.FULFILLING, actor=FULFILMENT, reason="Fulfilment started.")
        elif order.status != OrderStatus.FULFILLING:
            return order.status
    shipment = Shipment.objects.filter(order_id=order_id).first()
    if shipment is None:
        try:
            shipment = _pick_fill_pack(order_id=order_id)
        except PrescriptionExhausted as exc:
            return _back_to_review(
                order_id=order_id,
                reason=(
                    f"A prescription was used up before this order could be filled: {exc.message} "
                    "A pharmacist must review the order again."
                ),
            )
        except NotCoveredAtFill as exc:
            return _back_to_review(
                order_id=order_id, reason=("A prescription no longer covers this order: " + " ".join(exc.reasons))
            )
        except InsufficientStock as exc:
            log.warning("Order %s cannot be allocated: %s", order_id, exc.message)
            _alert_staff_stock_problem(order_id=order_id, detail=exc.message)
            return OrderStatus.FULFILLING
        if shipment is None:  # the order left "fulfilling" meanwhile
            return Order.objects.get(pk=order_id).status
    return _ship(shipment_id=shipment.pk)


def _pick_fill_pack(*, order_id: int) -> Shipment | None:
    carrier = carrier_get()
    with transaction.atomic():
        order = order_get_locked(order_id=order_id)
        if order.status != OrderStatus.FULFILLING:
            return None
        existing = Shipment.objects.filter(order=order).first()
        if existing:
            return existing
        covers = {c.line.pk: c for c in order_rx_status(order=order)}
        problems = [r for c in covers.values() if not c.covered for r in c.reasons]
        if problems:
            raise NotCoveredAtFill(problems)
        today = pharmacy_today()
        margin = settings.FULFILMENT_EXPIRY_MARGIN_DAYS
        lines = list(order.lines.select_related("product").order_by("pk"))
        picks = []
        for line in lines:
            cover = covers.get(line.pk)
            days = cover.days_supply if cover else 0
            allocations = stock_allocate(
                reference=order.stock_reference,
                product_id=line.product_id,
                quantity=line.quantity,
                usable_through=today + timedelta(days=days + margin),
            )
            picks.append((line, allocations))
        for hook in hooks("SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS"):
            hook(order=order, picks=picks)
        for line in lines:
            cover = covers.get(line.pk)
            if cover is not None:
                assert cover.prescription is not None  # every line is covered here: by that prescription
                prescription_fill(
                    prescription_id=cover.prescription.pk,
                    quantity=line.quantity,
                    reference=line_reference(order, line),
                    days_supply=cover.days_supply or None,
                    product=line.product,
                )
        shipment = Shipment.objects.create(order=order, carrier=carrier.name)
        ShipmentLine.objects.bulk_create(
            [
                ShipmentLine(
                    shipment=shipment, order_line=line, product_id=line.product_id, lot_id=a.lot_id, quantity=a.quantity
                )
                for line, allocations in picks
                for a in allocations
            ]
        )
    return shipment


def _back_to_review(*, order_id: int, reason: str) -> str:
    with transaction.atomic():
        order = order_get_locked(order_id=order_id)
        if order.status != OrderStatus.FULFILLING or Shipment.objects.filter(order=order).exists():
            return order.status
        stock_return(reference=order.stock_reference)
        order_transition(order=order, to=OrderStatus.AWAITING_PRESCRIPTION_REVIEW, actor=FULFILMENT, reason=reason)
    return OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def _ship(*, shipment_id: int) -> str:
    shipment = Shipment.objects.select_related("order").get(pk=shipment_id)
    order = shipment.order
    if shipment.tracking_number is None and order.status == OrderStatus.FULFILLING:
        carrier = carrier_get()
        parcels = [{"product": sl.product_id, "lot": sl.lot_id, "quantity": sl.quantity} for sl in shipment.lines.all()]
        tracking = carrier.create_shipment(
            reference=f"shipment:{shipment.pk}",
            shipment_id=shipment.pk,
            address=order.shipping_address,
            parcels=parcels,
        )
        Shipment.objects.filter(pk=shipment.pk, tracking_number__isnull=True).update(tracking_number=tracking)
        shipment.refresh_from_db()
    with transaction.atomic():
        order = order_get_locked(order_id=order.pk)
        if order.status != OrderStatus.FULFILLING:
            return order.status
        now = timezone.now()
        Shipment.objects.filter(pk=shipment.pk, shipped_at__isnull=True).update(shipped_at=now)
        for dispense_id in Dispense.objects.filter(
            reference__startswith=f"{order.stock_reference}:line:", handed_over_at__isnull=True
        ).values_list("pk", flat=True):
            dispense_hand_over(dispense_id=dispense_id, at=now)
        order_transition(
            order=order,
            to=OrderStatus.SHIPPED,
            actor=FULFILMENT,
            reason=f"Shipped with {shipment.carrier}, tracking {shipment.tracking_number}.",
        )
    return OrderStatus.SHIPPED


def orders_fulfil_stuck(*, older_than: timedelta = timedelta(minutes=10)) -> list[int]:
    """Ids of orders ready or fulfilling, unchanged for ``older_than`` (their task was lost).

    Orders of a scheduled dispatch (refill kits) wait in ready_to_fulfil for their day (their own
    flow fulfils them), so only those already fulfilling are picked up here."""
    cutoff = timezone.now() - older_than
    stuck = Q(status=OrderStatus.FULFILLING) | Q(status=OrderStatus.READY_TO_FULFIL, scheduled_dispatch=False)
    return list(Order.objects.filter(stuck, updated_at__lt=cutoff).order_by("pk").values_list("pk", flat=True)[:500])


def shipments_track() -> int:
    """Ask the carrier about shipped parcels; mark the delivered ones. Returns how many."""
    carrier = carrier_get()
    delivered = 0
    waiting = Shipment.objects.filter(
        shipped_at__isnull=False, delivered_at__isnull=True, order__status=OrderStatus.SHIPPED
    ).select_related("order")
    for shipment in waiting.order_by("pk")[:1000]:
        assert shipment.tracking_number is not None  # shipped: the check constraint requires one
        if carrier.track(shipment.tracking_number) != DELIVERED:
            continue
        with transaction.atomic():
            order = order_get_locked(order_id=shipment.order_id)
            if order.status != OrderStatus.SHIPPED:
                continue
            Shipment.objects.filter(pk=shipment.pk, delivered_at__isnull=True).update(delivered_at=timezone.now())
            order_mark_delivered(
                order=order, actor=f"carrier {shipment.carrier}", reason=f"Delivered ({shipment.tracking_number})."
            )
        delivered += 1
    return delivered


def shipment_record_delivered(*, order_id: int) -> None:
    """The order was marked delivered (carrier or admin): stamp its shipment once."""
    Shipment.objects.filter(order_id=order_id, delivered_at__isnull=True).update(delivered_at=timezone.now())


# --- e-mails ------------------------------------------------------------------------------

Kind = OrderNotification.Kind


def order_notify(*, order_id: int, kind: str) -> bool:
    """E-mail the shopper about ``kind`` (confirmed, shipped, delivered) once; True if sent now.

    The sent-marker and the e-mail share a transaction: if sending fails the marker is rolled
    back and the task retries; a second call after success sends nothing.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id).first()
        if order is None:
            return False
        try:
            with transaction.atomic():
                OrderNotification.objects.create(order=order, kind=kind)
        except IntegrityError:
            return False
        recipient = order.email or order.user.email
        if not recipient:
            return False
        context = {
            "order": order,
            "lines": list(order.lines.all()),
            "site_url": settings.SITE_URL,
            "shipment": Shipment.objects.filter(order=order).first(),
        }
        subject = render_to_string(f"shop/email/order_{kind}_subject.txt", context).strip()
        body = render_to_string(f"shop/email/order_{kind}.txt", context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient])
    return True


def _alert_staff_stock_problem(*, order_id: int, detail: str) -> None:
    with transaction.atomic():
        try:
            with transaction.atomic():
                OrderNotification.objects.create(order_id=order_id, kind=Kind.STOCK_PROBLEM)
        except IntegrityError:
            return
        number = Order.objects.filter(pk=order_id).values_list("number", flat=True).first()
        send_mail(
            f"Order {number} cannot be fulfilled: stock",
            f"{detail}\n\nThe order stays in fulfilment and is retried until stock is received.",
            settings.DEFAULT_FROM_EMAIL,
            settings.PHARMACY_STAFF_EMAILS,
        )
