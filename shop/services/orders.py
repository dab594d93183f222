"""Order state changes. ``order_transition`` is the only writer of ``Order.status``.

Every transition locks the order row, checks the move against ``shop.state.TRANSITIONS``,
writes the ``OrderEvent`` and runs the status's entry rule, all in one transaction:

- cancelled / expired: the order's stock hold is released (and any allocation put back);
- refunded: the stock hold is released when nothing had been picked yet;
- delivered: the catalogue's verified-purchase hook marks the shopper's reviews.

``order_status_changed`` (``shop.signals``) is sent after the commit.
"""

from collections.abc import Callable

from django.contrib.auth.base_user import AbstractBaseUser
from django.db import transaction

from catalog.services.reviews import reviews_mark_verified_purchase
from catalog.services.stock import stock_release, stock_return
from core.errors import Conflict, DomainError, NotFound

from ..models import Order, OrderEvent, Shipment
from ..signals import order_status_changed
from ..state import CANCELLABLE, PAID_NOT_PICKED, PAID_STATES, OrderStatus, allowed_targets, can_transition

# Who or what made a change: a user, a label such as "stripe webhook", or None for "system".
Actor = AbstractBaseUser | str | None

SYSTEM = "system"
STRIPE_WEBHOOK = "stripe webhook"


class TransitionRefused(Conflict):
    """The order's current status does not allow the requested move (HTTP 409, body has ``status``)."""

    code = "invalid_transition"


def _label(status: str) -> str:
    try:
        return OrderStatus(status).label.lower()
    except ValueError:
        return status


def actor_fields(actor: Actor) -> tuple[AbstractBaseUser | None, str]:
    """Split an actor into (user or None, label) for event and refund records."""
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return actor, actor.get_username()


def order_get_locked(*, order_id: int) -> Order:
    """Lock and return the order row. Call inside a transaction."""
    return Order.objects.select_for_update().get(pk=order_id)


def transition_refused(order: Order, to: str) -> TransitionRefused:
    return TransitionRefused(
        f"Order {order.number} is {_label(order.status)}; it cannot become {_label(to)}.",
        data={"status": order.status, "requested": str(to), "allowed": allowed_targets(order.status)},
    )


def order_transition(*, order: Order, to: str, actor: Actor, reason: str = "") -> Order:
    """Move ``order`` to status ``to`` and record the event; raise TransitionRefused if not allowed.

    Returns the locked, updated order; ``order.status`` is updated in place as well.
    """
    try:
        target = OrderStatus(to)
    except ValueError as exc:
        raise DomainError(f"status: unknown order status {to!r}.") from exc
    user, label = actor_fields(actor)
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        from_status = locked.status
        if not can_transition(from_status, target):
            raise transition_refused(locked, target)
        locked.status = target
        locked.save(update_fields=["status", "updated_at"])
        OrderEvent.objects.create(
            order=locked, from_status=from_status, to_status=target, actor=user, actor_label=label, reason=reason
        )
        entry_rule = _ON_ENTER.get(target)
        if entry_rule:
            entry_rule(order=locked, from_status=from_status)
        payload = {"order_id": locked.pk, "number": locked.number, "from_status": from_status,
                   "to_status": str(target)}
        transaction.on_commit(lambda: order_status_changed.send(sender=Order, **payload))
    order.status = locked.status
    order.updated_at = locked.updated_at
    return locked


def _release_stock(*, order: Order, from_status: str) -> None:
    stock_release(reference=order.stock_reference)
    stock_return(reference=order.stock_reference)


def _release_if_not_picked(*, order: Order, from_status: str) -> None:
    if from_status in PAID_NOT_PICKED:
        _release_stock(order=order, from_status=from_status)


def _mark_verified_purchases(*, order: Order, from_status: str) -> None:
    reviews_mark_verified_purchase(
        user_id=order.user_id, product_ids=list(order.lines.values_list("product_id", flat=True))
    )


_ON_ENTER: dict[str, Callable[..., None]] = {
    OrderStatus.CANCELLED: _release_stock,
    OrderStatus.EXPIRED: _release_stock,
    OrderStatus.REFUNDED: _release_if_not_picked,
    OrderStatus.DELIVERED: _mark_verified_purchases,
}


def order_cancel(*, order: Order, actor: Actor, reason: str = "") -> Order:
    """Cancel the order: release its stock and, when it was paid, refund it in full through Stripe.

    The status change, the stock release and a pending Refund are committed first; the refund
    is then sent to Stripe (no lock held). If Stripe cannot be reached the refund stays pending
    and ``refunds_retry_pending`` sends it later, so the answer is still the cancelled order.
    """
    from .refunds import order_refundable_amount, refund_open, refund_send

    reason = reason or "Cancelled."
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if locked.status not in CANCELLABLE:
            raise transition_refused(locked, OrderStatus.CANCELLED)
        was_paid = locked.status in PAID_STATES
        order_transition(order=locked, to=OrderStatus.CANCELLED, actor=actor, reason=reason)
        refund = None
        if was_paid:
            amount = order_refundable_amount(order=locked)
            if amount > 0:
                refund = refund_open(order=locked, amount=amount, actor=actor, reason=f"Order cancelled: {reason}")
    if refund is not None:
        refund_send(refund_id=refund.pk, raise_unavailable=False)
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


def order_for_user(*, user, number: str, lock: bool = False) -> Order:
    """The user's own order by number; anyone else's (or an unknown number) is NotFound."""
    qs = Order.objects.filter(number=number, user_id=getattr(user, "pk", None))
    if lock:
        qs = qs.select_for_update()
    order = qs.first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order


def user_has_received_product(*, user_id: int, product_id: int) -> bool:
    """Whether a delivered order of the user held the product (registered in catalog's purchase_checkers)."""
    return Order.objects.filter(
        user_id=user_id, status__in=[OrderStatus.DELIVERED], lines__product_id=product_id
    ).exists()
