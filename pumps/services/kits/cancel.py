"""Ending a kit order before it ships: cancelled by the clinic's staff, or retired when its refill cycle ends.

Either way its invoiced shop order is cancelled (no card was charged, so nothing is refunded; the
stock hold is released) and its alerts are closed. See ``pumps.services.kits``.
"""

from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import NotFound
from pumps import access
from pumps.models import KitAlert, KitOrder
from shop.services.orders import order_cancel
from shop.services.transitions import SYSTEM, actor_fields, order_get_locked, order_transition
from shop.state import CANCELLABLE, OrderStatus

from . import KitOrderNotCancellable
from .alerts import kit_alerts_close

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = ["kit_order_retire", "kit_order_cancel"]

S = OrderStatus


def kit_order_retire(*, kit_order_id: int, reason: str, now: datetime | None = None) -> KitOrder:
    """Cancel a kit not yet shipped whose refill cycle is over (the pump was refilled without it).

    Its invoiced order is cancelled (no card was charged, so nothing is refunded; the stock hold is
    released) and its alerts are closed. The pump's new cycle gets its own kit or alert.
    """
    now = now or timezone.now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).get(pk=kit_order_id)
        if kit.status not in KitOrder.PENDING:
            return kit
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            if order.status in (S.FULFILLING, S.SHIPPED, S.DELIVERED):
                return kit
            if order.status in CANCELLABLE:
                order_transition(order=order, to=S.CANCELLED, actor=SYSTEM, reason=f"Invoice voided: {reason}")
        kit.status = KitOrder.Status.CANCELLED
        kit.last_error = reason
        kit.save(update_fields=["status", "last_error", "updated_at"])
        kit_alerts_close(kit_order_id=kit.pk, reasons=None, now=now, resolution=reason)
    return kit


def kit_order_cancel(*, kit_order_id: int, user: "User", reason: str, now: datetime | None = None) -> KitOrder:
    """Clinic staff cancel a kit not yet dispatched, saying why.

    Under the kit's row lock: a dispatched or cancelled (retired) kit, or one whose order fulfilment
    has started, is refused with ``KitOrderNotCancellable`` (409, ``data["status"]``). Otherwise the
    shop order is cancelled through ``orders.order_cancel(scheduled_flow=True)`` as the user, with the reason (its
    ``OrderEvent``; the stock hold is released; kit orders are invoiced, with no Stripe payment, so
    nothing is refunded: the invoice is voided), the kit becomes ``cancelled`` and its open alerts
    are resolved by the user with the reason. Anyone but the kit's clinic staff gets NotFound.

    Only this kit is cancelled: a standing order stays active and orders the next cycle's kit.
    For this refill cycle the clinic's cancellation stands: ``kits_scan`` does not order it again,
    but raises one ``no_order`` alert for the due pump, so a person confirms the refill is covered
    another way (the clinic may still order a kit for the cycle by hand).
    """
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the kit is cancelled."})
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).filter(pk=kit_order_id).first()
        if kit is None or not access.can_manage_kit_order(user, kit):
            raise NotFound("Kit order not found.")
        if kit.status not in KitOrder.PENDING:
            raise KitOrderNotCancellable(
                f"Kit order {kit.pk} is {kit.get_status_display().lower()}; it cannot be cancelled.",
                data={"status": kit.status},
            )
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            if order.status in CANCELLABLE:
                order_cancel(
                    order=order,
                    actor=user,
                    reason=f"Invoice voided: refill kit cancelled by the clinic: {reason}",
                    scheduled_flow=True,
                )
            elif order.status not in (S.CANCELLED, S.EXPIRED):
                raise KitOrderNotCancellable(
                    f"Kit order {kit.pk}'s order {order.number} is {order.get_status_display().lower()}; "
                    "it cannot be cancelled.",
                    data={"status": kit.status, "order_status": order.status},
                )
        _, label = actor_fields(user)
        kit.status = KitOrder.Status.CANCELLED
        kit.last_error = f"Cancelled by {label}: {reason}"
        kit.save(update_fields=["status", "last_error", "updated_at"])
        KitAlert.objects.filter(kit_order_id=kit.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=user, resolution=f"Kit cancelled by the clinic: {reason}"
        )
    return kit
