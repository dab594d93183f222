"""Refunds: for a whole order (cancellation, a payment that came too late) or for one line.

A refund is first written as a pending ``Refund`` row in the same transaction as the decision
that caused it (and, for a line, the line's ``refunded_amount`` is claimed then), so two staff
members cannot refund the same money twice. ``refund_send`` then calls Stripe with no lock
held. Each refund carries ``metadata.refund_ref = <Refund pk>`` at Stripe, which lets a retry
find a refund whose answer was lost, and lets ``charge.refunded`` webhooks match it, without
relying on Stripe's idempotency keys (localstripe ignores them).

When the succeeded refunds reach the order total, a paid order moves to ``refunded``.
"""

import logging
from datetime import datetime, timedelta
from decimal import Decimal
from typing import cast

from django.db import transaction
from django.db.models import F, Sum
from django.utils import timezone

from catalog import pricing
from core.errors import Conflict, DomainError, NotFound, ServiceUnavailable

from ..models import Order, OrderLine, Payment, Refund
from ..state import REFUNDABLE, OrderStatus
from . import stripe_gateway as gateway
from .transitions import Actor, actor_fields, order_get_locked, order_transition

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
_STRIPE_STATUS = {
    "succeeded": Refund.Status.SUCCEEDED,
    "pending": Refund.Status.PENDING,
    "requires_action": Refund.Status.PENDING,
    "failed": Refund.Status.FAILED,
    "canceled": Refund.Status.FAILED,
}


def _now() -> datetime:
    return timezone.now()


def order_paid_payment(*, order: Order) -> Payment | None:
    """The payment that paid the order (the one its refunds are taken from)."""
    return order.payments.filter(status=Payment.Status.SUCCEEDED, paid_the_order=True).first()


def order_refunded_total(*, order: Order, include_pending: bool = True) -> Decimal:
    """Money given back (or being given back) from the order's payment.

    Refunds of a stray second charge (``_apply_success``) are not counted: they do not pay
    back the order.
    """
    payment = order_paid_payment(order=order)
    if payment is None:
        return Decimal("0.00")
    statuses = [Refund.Status.SUCCEEDED] + ([Refund.Status.PENDING] if include_pending else [])
    total = order.refunds.filter(payment=payment, status__in=statuses).aggregate(s=Sum("amount"))["s"]
    return total or Decimal("0.00")


def order_refundable_amount(*, order: Order) -> Decimal:
    """Money taken for the order and not yet (being) given back."""
    payment = order_paid_payment(order=order)
    if payment is None:
        return Decimal("0.00")
    return max(pricing.from_cents(payment.amount_cents) - order_refunded_total(order=order), Decimal("0.00"))


def refund_open(
    *,
    order: Order,
    amount: Decimal,
    actor: Actor,
    reason: str,
    line: OrderLine | None = None,
    payment: Payment | None = None,
) -> Refund:
    """Write a pending refund of ``amount``. Call inside the transaction that locked ``order``."""
    payment = payment or order_paid_payment(order=order)
    if payment is None:
        raise Conflict(
            f"Order {order.number} has no successful payment to refund.",
            code="nothing_to_refund",
            data={"status": order.status},
        )
    user, _ = actor_fields(actor)
    return Refund.objects.create(
        order=order, order_line=line, payment=payment, amount=amount, reason=reason, created_by=user
    )


def order_refund_line(
    *, order: Order, line_id: int, actor: Actor, amount: Decimal | None = None, reason: str = ""
) -> Refund:
    """Refund part or all (default: what is left) of one line through Stripe.

    Allowed in the statuses that may become ``refunded`` (not while the order is being picked).
    Raises 409 in another status, 400 for an amount that is not positive or exceeds what is
    left on the line. Returns the refund (``succeeded``, or ``pending`` if Stripe was unreachable).
    """
    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if locked.status not in REFUNDABLE:
            raise Conflict(
                f"Order {locked.number} is {OrderStatus(locked.status).label.lower()}; it cannot be refunded now.",
                code="invalid_transition",
                data={"status": locked.status},
            )
        line = OrderLine.objects.select_for_update().filter(order=locked, pk=line_id).first()
        if line is None:
            raise NotFound(f"Order {locked.number} has no line {line_id}.")
        left = min(line.refundable_amount, order_refundable_amount(order=locked))
        amount = left if amount is None else Decimal(amount).quantize(CENT)
        if amount <= 0:
            raise DomainError(
                "amount: a refund must be more than zero; nothing is left to refund on this line."
                if left <= 0
                else "amount: a refund must be more than zero."
            )
        if amount > left:
            raise DomainError(f"amount: at most {left} is left to refund on this line.")
        OrderLine.objects.filter(pk=line.pk).update(refunded_amount=F("refunded_amount") + amount)
        refund = refund_open(
            order=locked, line=line, amount=amount, actor=actor, reason=reason or f"Refund of {line.product_name}"
        )
    return cast(Refund, refund_send(refund_id=refund.pk, raise_unavailable=False))  # the refund was just written


def refund_send(*, refund_id: int, raise_unavailable: bool = True) -> Refund | None:
    """Send a pending refund to Stripe and record the answer. Idempotent; safe to call again.

    Only the caller whose conditional UPDATE bumps ``send_attempts`` talks to Stripe. A retry
    first looks for a refund that Stripe already made for this row (``metadata.refund_ref``).
    If Stripe cannot be reached the refund stays pending (ServiceUnavailable is raised when
    ``raise_unavailable``, so a Celery task can retry); if Stripe refuses it, it is marked failed
    and a line's claimed amount is given back.
    """
    refund = Refund.objects.select_related("order", "payment").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.PENDING or refund.stripe_refund_id:
        return refund
    attempts = refund.send_attempts
    claimed = Refund.objects.filter(pk=refund.pk, status=Refund.Status.PENDING, send_attempts=attempts).update(
        send_attempts=attempts + 1, updated_at=_now()
    )
    if not claimed:
        return Refund.objects.get(pk=refund.pk)
    intent_id = refund.payment.stripe_payment_intent_id if refund.payment else None
    if not intent_id:
        return _refund_failed(refund_id=refund.pk, error="The order has no Stripe payment to refund.")
    try:
        found = None
        if attempts:
            found = next(
                (
                    r
                    for r in gateway.refunds_list(payment_intent_id=intent_id)
                    if r.metadata.get("refund_ref") == str(refund.pk)
                ),
                None,
            )
        stripe_refund = found or gateway.refund_create(
            payment_intent_id=intent_id,
            amount_cents=pricing.to_cents(refund.amount),
            metadata={"refund_ref": str(refund.pk), "order_number": refund.order.number},
            idempotency_key=f"refund-{refund.pk}",
        )
    except ServiceUnavailable:
        log.warning("Refund %s of order %s left pending: Stripe unreachable", refund.pk, refund.order.number)
        if raise_unavailable:
            raise
        return Refund.objects.get(pk=refund.pk)
    except DomainError as exc:
        return _refund_failed(refund_id=refund.pk, error=exc.message)
    with transaction.atomic():
        order_get_locked(order_id=refund.order_id)
        row = Refund.objects.select_for_update().get(pk=refund.pk)
        if not row.stripe_refund_id:  # a webhook may have matched it first
            row.stripe_refund_id = stripe_refund.id
            row.status = _STRIPE_STATUS.get(stripe_refund.status, Refund.Status.PENDING)
            row.save(update_fields=["stripe_refund_id", "status", "updated_at"])
            if row.status == Refund.Status.FAILED:
                _give_back_line_claim(row)
        order_settle_refunds(order_id=row.order_id, actor=row.created_by or "system")
    return row


def _give_back_line_claim(refund: Refund) -> None:
    if refund.order_line_id:
        OrderLine.objects.filter(pk=refund.order_line_id).update(refunded_amount=F("refunded_amount") - refund.amount)


def _refund_failed(*, refund_id: int, error: str) -> Refund:
    with transaction.atomic():
        row = Refund.objects.select_for_update().get(pk=refund_id)
        if row.status == Refund.Status.PENDING:
            row.status = Refund.Status.FAILED
            row.error = error
            row.save(update_fields=["status", "error", "updated_at"])
            _give_back_line_claim(row)
    log.error("Refund %s failed: %s", refund_id, error)
    return row


def order_settle_refunds(*, order_id: int, actor: Actor) -> Order:
    """Move a paid order to ``refunded`` once its succeeded refunds cover the total. Locks the order."""
    with transaction.atomic():
        order = order_get_locked(order_id=order_id)
        if order.status in REFUNDABLE and order_refunded_total(order=order, include_pending=False) >= order.total:
            order_transition(
                order=order, to=OrderStatus.REFUNDED, actor=actor, reason="The refunds reached the order total."
            )
    return order


def refund_record_from_stripe(*, stripe_refund: gateway.StripeRefund, actor: Actor) -> Refund | None:
    """Record a refund Stripe told us about (webhook). Idempotent by Stripe refund id.

    Matches our own pending refund through ``metadata.refund_ref``; a refund made elsewhere
    (the Stripe dashboard) is recorded for the whole order. Returns None when no payment of
    ours matches the refund's PaymentIntent.
    """
    payment = Payment.objects.filter(stripe_payment_intent_id=stripe_refund.payment_intent).first()
    if payment is None:
        return None
    status = _STRIPE_STATUS.get(stripe_refund.status, Refund.Status.PENDING)
    with transaction.atomic():
        order_get_locked(order_id=payment.order_id)
        row = Refund.objects.select_for_update().filter(stripe_refund_id=stripe_refund.id).first()
        ref = stripe_refund.metadata.get("refund_ref", "")
        if row is None and ref.isdigit():
            row = (
                Refund.objects.select_for_update()
                .filter(pk=int(ref), order_id=payment.order_id, stripe_refund_id__isnull=True)
                .first()
            )
            if row is not None:
                row.stripe_refund_id = stripe_refund.id
                row.save(update_fields=["stripe_refund_id", "updated_at"])
        if row is None:
            if status == Refund.Status.FAILED:
                return None
            row = Refund.objects.create(
                order_id=payment.order_id,
                payment=payment,
                amount=pricing.from_cents(stripe_refund.amount),
                stripe_refund_id=stripe_refund.id,
                status=status,
                reason="Refunded in Stripe.",
            )
        elif row.status != status and row.status != Refund.Status.FAILED:
            if status == Refund.Status.FAILED:
                row.status = status
                row.error = "Stripe reported the refund as failed."
                row.save(update_fields=["status", "error", "updated_at"])
                _give_back_line_claim(row)
            elif status == Refund.Status.SUCCEEDED:
                row.status = status
                row.save(update_fields=["status", "updated_at"])
        order_settle_refunds(order_id=payment.order_id, actor=actor)
    return row


def refunds_retry_pending(*, older_than: timedelta = timedelta(minutes=2), limit: int = 100) -> int:
    """Send again the refunds left pending (Stripe was unreachable). Returns how many were tried."""
    ids = list(
        Refund.objects.filter(
            status=Refund.Status.PENDING, stripe_refund_id__isnull=True, updated_at__lte=_now() - older_than
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )
    for refund_id in ids:
        refund_send(refund_id=refund_id, raise_unavailable=False)
    return len(ids)
