"""What may happen to an order as a whole: cancel it (refunding a paid one), mark it shipped or
delivered, find a shopper's own order. Each status change goes through
``shop.services.transitions.order_transition``.
"""

from django.db import transaction

from core.errors import Conflict

from ..models import Order, Shipment
from ..state import CANCELLABLE, PAID_STATES, OrderStatus
from . import refunds
from .transitions import Actor, order_get_locked, order_transition, transition_refused


class CancelledByItsFlow(Conflict):
    """The order is a scheduled dispatch (a refill kit's): only the flow that owns it cancels it."""

    code = "order_scheduled_dispatch"


def order_cancel(*, order: Order, actor: Actor, reason: str = "", scheduled_flow: bool = False) -> Order:
    """Cancel the order: release its stock and, when it was paid, refund it in full through Stripe.

    An order of a scheduled dispatch (``Order.scheduled_dispatch``, a refill kit's) is cancelled only
    by the flow that owns it, which passes ``scheduled_flow=True`` (the kit cancel: reason, alerts, no
    re-order); anyone else (the order page, the API, the admin) gets ``CancelledByItsFlow`` (409).

    The status change, the stock release and a pending Refund are committed first; the refund
    is then sent to Stripe (no lock held). If Stripe cannot be reached the refund stays pending
    and ``refunds_retry_pending`` sends it later, so the answer is still the cancelled order.
    """
    reason = reason or "Cancelled."
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if locked.scheduled_dispatch and not scheduled_flow:
            raise CancelledByItsFlow(
                f"Order {locked.number} is a scheduled refill-kit dispatch: cancel the kit from the clinic's "
                "kit page (with a reason), not the order.",
                data={"status": locked.status},
            )
        if locked.status not in CANCELLABLE:
            raise transition_refused(locked, OrderStatus.CANCELLED)
        was_paid = locked.status in PAID_STATES
        order_transition(order=locked, to=OrderStatus.CANCELLED, actor=actor, reason=reason)
        refund = None
        if was_paid:
            amount = refunds.order_refundable_amount(order=locked)
            if amount > 0:
                refund = refunds.refund_open(
                    order=locked, amount=amount, actor=actor, reason=f"Order cancelled: {reason}"
                )
    if refund is not None:
        refunds.refund_send(refund_id=refund.pk, raise_unavailable=False)
    order.refresh_from_db()
    return order


class NotPacked(Conflict):
    """The order has no Shipment: it has not been through fulfilment (allocation, dispense, pick list)."""

    code = "order_not_packed"


def order_mark_shipped(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Staff: mark a packed order shipped (ready -> fulfilling -> shipped, both recorded).

    Only an order that has been through fulfilment (stock allocated, dispenses recorded, a
    ``Shipment`` written by ``shop.services.fulfilment.order_fulfil``) may be marked shipped;
    anything else is refused with ``NotPacked`` (409) and nothing changes.
    """
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if not Shipment.objects.filter(order_id=locked.pk).exists():
            raise NotPacked(
                f"Order {locked.number} has not been packed by fulfilment; it cannot be marked shipped.",
                data={"status": locked.status},
            )
        if locked.status == OrderStatus.READY_TO_FULFIL:
            order_transition(order=locked, to=OrderStatus.FULFILLING, actor=actor, reason=reason or "Picked.")
        order_transition(order=locked, to=OrderStatus.SHIPPED, actor=actor, reason=reason or "Shipped.")
    order.refresh_from_db()
    return order


def order_mark_delivered(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Staff: mark a shipped order delivered (the catalogue then knows the shopper bought the products)."""
    order_transition(order=order, to=OrderStatus.DELIVERED, actor=actor, reason=reason or "Delivered.")
    order.refresh_from_db()
    return order


def user_has_received_product(*, user_id: int, product_id: int) -> bool:
    """Whether a delivered order of the user held the product (``CATALOG_PURCHASE_CHECKERS``, through shop.hooks)."""
    return Order.objects.filter(
        user_id=user_id, status__in=[OrderStatus.DELIVERED], lines__product_id=product_id
    ).exists()
