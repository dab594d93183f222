"""The one place where a PaymentIntent's state reaches our records (``payment_apply_intent``),
whether it comes from the pay request's own answer (``payments.order_pay``), from a webhook, or
from re-reading the intent; and a declined charge (``payment_record_decline``).

``payment_apply_intent`` locks the order and records the outcome. A webhook for the same intent
goes through the same function; the order lock serialises the two, the intent id is unique, and
every change is guarded by the current status, so whichever comes first wins and the other does
nothing. A webhook that arrives before the pay request's answer finds the claimed row through the
intent's metadata and fills it in, so it is never lost. Money that arrives for an order that can
no longer take it is refunded.
"""

import logging
from decimal import Decimal

from django.db import IntegrityError, transaction

from catalog import pricing
from catalog.services.stock import InsufficientStock, stock_reserve

from ..models import Order, OrderLine, Payment
from ..state import PAYABLE, OrderStatus
from . import refunds
from . import stripe_gateway as gateway
from .gating import order_rx_covered
from .transitions import Actor, order_get_locked, order_transition

log = logging.getLogger(__name__)

_STATUS_FROM_STRIPE = {
    "succeeded": Payment.Status.SUCCEEDED,
    "processing": Payment.Status.PROCESSING,
    "requires_capture": Payment.Status.PROCESSING,
    "requires_action": Payment.Status.REQUIRES_ACTION,
    "requires_confirmation": Payment.Status.REQUIRES_ACTION,
    "requires_payment_method": Payment.Status.FAILED,
    "canceled": Payment.Status.CANCELED,
}
# How far along a payment is; a late snapshot never moves a payment back down this scale.
_RANK: dict[str, int] = {
    Payment.Status.CREATING: 0,
    Payment.Status.UNKNOWN: 0,
    Payment.Status.REQUIRES_ACTION: 1,
    Payment.Status.FAILED: 1,
    Payment.Status.CANCELED: 1,
    Payment.Status.PROCESSING: 2,
    Payment.Status.SUCCEEDED: 3,
}


def payment_record_decline(*, claim: Payment, message: str, intent_id: str | None, actor: Actor) -> Order:
    """Record a declined charge on its claimed attempt (the order fails if it is the newest attempt)."""
    with transaction.atomic():
        order = order_get_locked(order_id=claim.order_id)
        payment = Payment.objects.select_for_update().get(pk=claim.pk)
        if _RANK[payment.status] <= _RANK[Payment.Status.FAILED]:
            payment.status = Payment.Status.FAILED
        payment.last_error = message
        if (
            intent_id
            and not payment.stripe_payment_intent_id
            and not Payment.objects.filter(stripe_payment_intent_id=intent_id).exists()
        ):
            payment.stripe_payment_intent_id = intent_id
        payment.save()
        _apply_failure(order=order, payment=payment, message=message, actor=actor)
    return order


def _is_latest_attempt(order: Order, payment: Payment) -> bool:
    return not order.payments.filter(attempt__gt=payment.attempt).exists()


def _apply_failure(*, order: Order, payment: Payment, message: str, actor: Actor) -> None:
    # Only the newest attempt may mark the order failed: a late "failed" for an older attempt
    # must not disturb a newer one, and nothing moves a paid order back.
    if order.status == OrderStatus.PENDING_PAYMENT and _is_latest_attempt(order, payment):
        order_transition(
            order=order, to=OrderStatus.PAYMENT_FAILED, actor=actor, reason=message or "The payment failed."
        )


def _find_payment(order: Order, intent: gateway.Intent) -> Payment:
    """The Payment row of ``intent``: by intent id, else the claimed attempt named in its metadata."""
    payment = Payment.objects.select_for_update().filter(stripe_payment_intent_id=intent.id).first()
    if payment is not None:
        return payment
    attempt = intent.metadata.get("attempt", "")
    if attempt.isdigit():
        payment = (
            Payment.objects.select_for_update()
            .filter(order=order, attempt=int(attempt), stripe_payment_intent_id__isnull=True)
            .first()
        )
        if payment is not None:
            payment.stripe_payment_intent_id = intent.id
            return payment
    # An intent for this order that we did not create through order_pay (e.g. in the dashboard).
    order.payment_attempts += 1
    order.save(update_fields=["payment_attempts", "updated_at"])
    return Payment(
        order=order,
        attempt=order.payment_attempts,
        idempotency_key=f"stripe-{intent.id}",
        stripe_payment_intent_id=intent.id,
        amount_cents=intent.amount or order.total_cents,
        currency=intent.currency or order.currency,
        payment_method=intent.payment_method or "",
    )


def payment_apply_intent(*, intent: gateway.Intent, actor: Actor) -> tuple[Order | None, Payment | None]:
    """Record what a PaymentIntent's state means for its payment and order. Idempotent.

    The order is found from ``metadata.order_number`` (set when the intent was created) or from
    an existing Payment row. Returns (None, None) when no order matches (the caller keeps the
    event to try again later).
    """
    number = intent.metadata.get("order_number")
    with transaction.atomic():
        order_id = Order.objects.filter(number=number).values_list("pk", flat=True).first() if number else None
        if order_id is None:
            order_id = (
                Payment.objects.filter(stripe_payment_intent_id=intent.id).values_list("order_id", flat=True).first()
            )
        if order_id is None:
            return None, None
        order = order_get_locked(order_id=order_id)
        payment = _find_payment(order, intent)
        new_status = _STATUS_FROM_STRIPE.get(intent.status, Payment.Status.UNKNOWN)
        if payment.pk is None or _moves_forward(payment.status, new_status):
            payment.status = new_status
            if new_status == Payment.Status.FAILED and intent.last_error:
                payment.last_error = intent.last_error
        try:
            with transaction.atomic():
                payment.save()
        except IntegrityError:  # a concurrent request recorded the same intent first
            payment = Payment.objects.select_for_update().get(stripe_payment_intent_id=intent.id)
        if payment.status == Payment.Status.SUCCEEDED:
            _apply_success(order=order, payment=payment, intent=intent, actor=actor)
        elif payment.status == Payment.Status.FAILED:
            _apply_failure(order=order, payment=payment, message=payment.last_error, actor=actor)
    return order, payment


def _moves_forward(current: str, new: str) -> bool:
    if current == Payment.Status.SUCCEEDED:
        return False
    if new in (Payment.Status.FAILED, Payment.Status.CANCELED):
        return True  # a 3-D Secure failure or an async decline ends any open attempt
    return _RANK[new] >= _RANK[current]


def _apply_success(*, order: Order, payment: Payment, intent: gateway.Intent, actor: Actor) -> None:
    """The money was taken: move a payable order on; refund money that arrived for a dead order."""
    if order.status not in PAYABLE:
        if payment.refunds.exists():
            return
        if order.status in (OrderStatus.CANCELLED, OrderStatus.EXPIRED):
            reason = f"Payment {payment.stripe_payment_intent_id} arrived after the order was {order.status}."
        elif not payment.paid_the_order:
            reason = f"Payment {payment.stripe_payment_intent_id} charged an order that was already paid."
        else:
            return  # the same payment, already applied by the other path: nothing to do
        refund = refunds.refund_open(order=order, payment=payment, amount=_amount(payment), actor=actor, reason=reason)
        transaction.on_commit(lambda: refunds.refund_send(refund_id=refund.pk, raise_unavailable=False))
        return
    if intent.amount and (intent.amount != order.total_cents or intent.currency != order.currency):
        log.error(
            "Intent %s amount %s %s does not match order %s", intent.id, intent.amount, intent.currency, order.number
        )
        payment.last_error = "The amount paid does not match the order total; left for staff."
        payment.save(update_fields=["last_error", "updated_at"])
        return
    # Hold the stock for good. Reserving again replaces the checkout's timed hold; it only
    # fails when the hold had lapsed and the units were sold to someone else meanwhile.
    lines = list(OrderLine.objects.filter(order=order).values_list("product_id", "quantity"))
    try:
        with transaction.atomic():
            stock_reserve(reference=order.stock_reference, lines=lines, ttl=None)
        short = None
    except InsufficientStock as exc:
        short = exc.message
    Order.objects.filter(pk=order.pk).update(reservation_expires_at=None)
    order.reservation_expires_at = None
    payment.paid_the_order = True
    payment.save(update_fields=["paid_the_order", "updated_at"])
    order_transition(
        order=order, to=OrderStatus.PAID, actor=actor, reason=f"Payment {payment.stripe_payment_intent_id} succeeded."
    )
    if short:
        order_transition(
            order=order,
            to=OrderStatus.CANCELLED,
            actor=actor,
            reason=f"Paid after the reservation lapsed and the stock was gone. {short}",
        )
        refund = refunds.refund_open(
            order=order, payment=payment, amount=_amount(payment), actor=actor, reason="Stock no longer available."
        )
        transaction.on_commit(lambda: refunds.refund_send(refund_id=refund.pk, raise_unavailable=False))
        return
    if order_rx_covered(order=order):
        order_transition(
            order=order, to=OrderStatus.READY_TO_FULFIL, actor=actor, reason="No prescription review needed."
        )
    else:
        order_transition(
            order=order,
            to=OrderStatus.AWAITING_PRESCRIPTION_REVIEW,
            actor=actor,
            reason="Prescription-only items: a pharmacist must verify the prescriptions.",
        )


def _amount(payment: Payment) -> Decimal:
    return pricing.from_cents(payment.amount_cents)
