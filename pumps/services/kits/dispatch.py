"""Dispatching kits on their ship-by day: a covered, ready kit is handed to the shop's fulfilment.

What stops a kit (no stock, no approval, a payment problem, a fulfilment error) raises an alert, and
so does a late kit or one that cannot arrive in time. See ``pumps.services.kits``.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.db import transaction
from django.utils import timezone

from catalog.services.stock import InsufficientStock
from core.errors import Conflict
from core.shipping import pharmacy_today
from pumps.models import KitAlert, KitOrder
from shop.models import Order
from shop.services.fulfilment import order_fulfil
from shop.services.transitions import order_get_locked
from shop.state import OrderStatus

from .alerts import kit_alert_raise, kit_alerts_close, kits_check_late
from .cancel import kit_order_retire
from .gating import kit_prescription_gate
from .orders import kit_order_place

__all__ = ["kits_dispatch", "kit_order_dispatch", "kit_order_mark_shipped"]

log = logging.getLogger(__name__)
S = OrderStatus
Reason = KitAlert.Reason
# Hands an order to fulfilment (called as ``fulfil(order_id=...)``): the shop's ``order_fulfil``, or a test's.
Fulfil = Callable[..., object]


def kits_dispatch(*, now: datetime | None = None, fulfil: Fulfil = order_fulfil) -> list[int]:
    """Dispatch every kit whose ship-by day has come; returns the ids dispatched."""
    now = now or timezone.now()
    ids = list(
        KitOrder.objects.filter(status__in=KitOrder.PENDING, ship_by__lte=pharmacy_today(now))
        .order_by("ship_by", "pk")
        .values_list("pk", flat=True)
    )
    dispatched = []
    for pk in ids:
        try:
            if kit_order_dispatch(kit_order_id=pk, now=now, fulfil=fulfil).status == KitOrder.Status.DISPATCHED:
                dispatched.append(pk)
        except Exception:  # one kit's failure must not stop the others; it is alerted below
            log.exception("Dispatch of kit order %s failed", pk)
            with transaction.atomic():
                kit = KitOrder.objects.select_related("pump").get(pk=pk)
                kit_alert_raise(
                    pump=kit.pump,
                    kit_order=kit,
                    reason=Reason.DISPATCH_FAILED,
                    now=now,
                    message="The dispatch run failed unexpectedly; see the logs.",
                )
    kits_check_late(kit_ids=ids, now=now)
    return dispatched


def kit_order_dispatch(*, kit_order_id: int, now: datetime | None = None, fulfil: Fulfil = order_fulfil) -> KitOrder:
    """Ship one kit: place its order if stock was short, gate it, fulfil it, or alert why not.

    Three steps. The checks run under the kit's row lock and commit; fulfilment (``fulfil``, the
    shop's ``order_fulfil``) then runs with no lock of ours held, because it commits step by step
    (so a killed worker never loses or double-ships the order) and books the carrier over HTTP;
    finally the kit records the outcome under its lock again. Every path that does not ship raises
    or keeps an alert.
    """
    now = now or timezone.now()
    kit, order_id = _dispatch_prepare(kit_order_id=kit_order_id, now=now)
    if order_id is None:
        return kit
    try:
        fulfil(order_id=order_id)
    except Exception as exc:  # noqa: BLE001 - any failure must be alerted, not lost
        log.exception("Fulfilment of kit order %s failed", kit_order_id)
        reason = Reason.NO_STOCK if isinstance(exc, InsufficientStock) else Reason.DISPATCH_FAILED
        message = getattr(exc, "message", "") or str(exc) or exc.__class__.__name__
        return _dispatch_record(kit_order_id=kit_order_id, now=now, error=(message, reason))
    return _dispatch_record(kit_order_id=kit_order_id, now=now)


def _dispatch_prepare(*, kit_order_id: int, now: datetime) -> tuple[KitOrder, int | None]:
    """Check and gate the kit under its lock; return the order id to fulfil, or None (nothing to do now)."""
    with transaction.atomic():
        kit = (
            KitOrder.objects.select_for_update(of=("self",))
            .select_related("pump", "clinic", "product", "standing_order__created_by")
            .get(pk=kit_order_id)
        )
        if kit.status not in KitOrder.PENDING:
            return kit, None
        if kit.refill_id != kit.pump.current_refill_id:
            return kit_order_retire(
                kit_order_id=kit.pk,
                now=now,
                reason="The pump was refilled (a new refill cycle) before this kit shipped.",
            ), None
        if kit.order_id is None and not _dispatch_place_order(kit, now):
            return kit, None
        assert kit.order_id is not None  # placed above
        order = order_get_locked(order_id=kit.order_id)
        if _dispatch_blocked(kit, order, now):
            return kit, None
    # Ready (or an interrupted fulfilment to finish); shipped or delivered is simply recorded next.
    return kit, order.pk


def _dispatch_place_order(kit: KitOrder, now: datetime) -> bool:
    """Place the locked kit's order from its standing order; False (with an alert) when it cannot be placed."""
    standing = kit.standing_order
    if standing is None:
        kit_alert_raise(
            pump=kit.pump,
            kit_order=kit,
            reason=Reason.NO_STOCK,
            now=now,
            message="The kit has no order and no standing order to place it.",
        )
        return False
    try:
        with transaction.atomic():
            kit_order_place(kit=kit, user=standing.created_by, shipping=standing.shipping, now=now)
    except (InsufficientStock, Conflict) as exc:
        kit_alert_raise(
            pump=kit.pump,
            kit_order=kit,
            reason=Reason.NO_STOCK,
            now=now,
            message=f"No stock for the kit: {exc.message}",
        )
        return False
    return True


def _dispatch_blocked(kit: KitOrder, order: Order, now: datetime) -> bool:
    """Gate the kit's locked order; True (with an alert, or the kit failed) when it cannot ship now."""
    if order.status in (S.PAID, S.AWAITING_PRESCRIPTION_REVIEW):
        kit_prescription_gate(kit=kit, order=order, now=now)
    if order.status == S.AWAITING_PRESCRIPTION_REVIEW:
        kit_alert_raise(
            pump=kit.pump,
            kit_order=kit,
            reason=Reason.NO_APPROVAL,
            now=now,
            message="The kit cannot ship: no approved intrathecal prescription covers it. "
            "The patient's prescriptions are first in the pharmacist's queue.",
        )
        return True
    if order.status in (S.PENDING_PAYMENT, S.PAYMENT_FAILED):
        kit_alert_raise(
            pump=kit.pump,
            kit_order=kit,
            reason=Reason.PAYMENT_PROBLEM,
            now=now,
            message=f"The kit's order {order.number} is not paid ({order.get_status_display()}).",
        )
        return True
    if order.status in (S.CANCELLED, S.EXPIRED, S.REFUNDED):
        _kit_failed(
            kit,
            f"The kit's order {order.number} is {order.get_status_display().lower()}.",
            Reason.PAYMENT_PROBLEM if order.status == S.REFUNDED else Reason.DISPATCH_FAILED,
            now,
        )
        return True
    return False


def _dispatch_record(*, kit_order_id: int, now: datetime, error: tuple[str, str] | None = None) -> KitOrder:
    """Record under the kit's lock what fulfilment achieved: dispatched, or failed with an alert."""
    with transaction.atomic():
        kit = (
            KitOrder.objects.select_for_update(of=("self",))
            .select_related("pump", "clinic", "product")
            .get(pk=kit_order_id)
        )
        if kit.status not in KitOrder.PENDING:
            return kit
        assert kit.order_id is not None  # prepared: it has its order
        order = Order.objects.get(pk=kit.order_id)
        if error is not None:
            _kit_failed(kit, error[0], error[1], now)
        elif order.status in (S.SHIPPED, S.DELIVERED):
            kit.status = KitOrder.Status.DISPATCHED
            kit.dispatched_at = now
            kit.last_error = ""
            kit.save(update_fields=["status", "dispatched_at", "last_error", "updated_at"])
            kit_alerts_close(kit_order_id=kit.pk, reasons=None, now=now, resolution="Kit dispatched.")
        else:
            # Still fulfilling (no usable stock) or sent back to prescription review: not shipped.
            _kit_failed(
                kit,
                f"Fulfilment left order {order.number} {order.get_status_display().lower()}.",
                Reason.NO_STOCK if order.status == S.FULFILLING else Reason.DISPATCH_FAILED,
                now,
            )
    return kit


def _kit_failed(kit: KitOrder, error: str, reason: str, now: datetime) -> None:
    kit.status = KitOrder.Status.FAILED
    kit.last_error = error
    kit.save(update_fields=["status", "last_error", "updated_at"])
    kit_alert_raise(pump=kit.pump, kit_order=kit, reason=reason, now=now, message=f"The kit could not ship: {error}")


def kit_order_mark_shipped(*, order_id: int, now: datetime | None = None) -> KitOrder | None:
    """The kit's order shipped (by the dispatch or any other path): the kit is dispatched. Idempotent."""
    now = now or timezone.now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
        if kit is None or kit.status not in KitOrder.PENDING:
            return kit
        kit.status = KitOrder.Status.DISPATCHED
        kit.dispatched_at = now
        kit.last_error = ""
        kit.save(update_fields=["status", "dispatched_at", "last_error", "updated_at"])
        kit_alerts_close(kit_order_id=kit.pk, reasons=None, now=now, resolution="Kit dispatched.")
    return kit
