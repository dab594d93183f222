"""Order state changes: ``order_transition`` is the only writer of ``Order.status``.

Every transition locks the order row, checks the move against ``shop.state.TRANSITIONS``,
writes the ``OrderEvent`` and runs the status's entry rule, all in one transaction:

- cancelled / expired: the order's stock hold is released (and any allocation put back);
- refunded: the stock hold is released when nothing had been picked yet;
- delivered: the catalogue's verified-purchase hook marks the shopper's reviews.

``order_status_changed`` (``shop.signals``) is sent after the commit. The flows built on it
(cancel, mark shipped or delivered) are in ``shop.services.orders``.
"""

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from django.db import transaction

from catalog.services.reviews import reviews_mark_verified_purchase
from catalog.services.stock import stock_release, stock_return
from core.errors import Conflict, DomainError

from ..models import Order, OrderEvent
from ..signals import order_status_changed
from ..state import PAID_NOT_PICKED, OrderStatus, allowed_targets, can_transition

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# A request's user (``request.user``), perhaps anonymous.
type AnyUser = User | AnonymousUser
# Who or what made a change: a user, a label such as "stripe webhook", or None for "system".
type Actor = User | AnonymousUser | str | None

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


def actor_fields(actor: Actor) -> tuple["User | None", str]:
    """Split an actor into (user or None, label) for event and refund records."""
    if actor is None:
        return None, SYSTEM
    if isinstance(actor, str):
        return None, actor
    if not getattr(actor, "is_authenticated", False):
        return None, "anonymous"
    return cast("User", actor), actor.get_username()  # authenticated: not the AnonymousUser


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
        payload = {"order_id": locked.pk, "number": locked.number, "from_status": from_status, "to_status": str(target)}
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
