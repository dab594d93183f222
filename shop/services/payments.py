"""Paying an order with Stripe: the pay request, the payment's status, and the SetupIntent the card
form needs. What an intent's state means for our records is ``payment_outcomes``.

Idempotency does not rely on Stripe's idempotency keys (localstripe ignores them):

1. Under the order lock, ``order_pay`` claims an attempt: a ``Payment`` row in ``creating`` with
   the key ``order-<number>-pay-<attempt>``. A second request finds that claim (409, payment in
   progress), a succeeded payment (answered as is, nothing charged), or an intent waiting for
   3-D Secure or processing (re-read from Stripe and answered as is).
2. The lock is released, then the PaymentIntent is created and confirmed (``confirm=True``)
   with that key and ``metadata = {order_number, attempt}``.
3. ``payment_outcomes.payment_apply_intent`` locks the order again and records the outcome. A
   webhook for the same intent goes through the same function; the order lock serialises the
   two, the intent id is unique, and every change is guarded by the current status, so
   whichever comes first wins and the other does nothing. A webhook that arrives before step 3 finds the claimed row
   through the intent's metadata and fills it in, so it is never lost.

If Stripe cannot be reached the attempt is marked ``unknown`` and the next request retries it
with the same idempotency key (real Stripe then answers with the intent it may have created).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from core.errors import Conflict, DomainError, ServiceUnavailable
from core.outages import broker_check

from ..access import order_for_user
from ..models import Order, Payment
from ..state import PAYABLE, OrderStatus
from . import stripe_gateway as gateway
from .payment_outcomes import payment_apply_intent, payment_record_decline
from .transitions import AnyUser, order_transition, transition_refused

# A claimed attempt older than this whose request never finished (the process died) is retried.
STALE_CLAIM = timedelta(seconds=60)

_OPEN = (Payment.Status.REQUIRES_ACTION, Payment.Status.PROCESSING)


def _now() -> datetime:
    return timezone.now()


@dataclass(frozen=True)
class PayResult:
    """The answer to a pay request. ``client_secret`` only when 3-D Secure is needed."""

    intent_id: str | None
    status: str
    order_status: str
    client_secret: str | None = None


@dataclass(frozen=True)
class PaymentInfo:
    """What a client needs to pay an order."""

    publishable_key: str
    amount_cents: int
    currency: str
    setup_intent_client_secret: str | None
    stripe_js_url: str
    test_mode: bool
    error: str = ""


def payment_info_for(*, order: Order, with_setup_intent: bool = True) -> PaymentInfo:
    """Payment details for ``order``; creates a SetupIntent (a Stripe call: never inside a transaction).

    If Stripe cannot be reached the SetupIntent secret is None and ``error`` says why; the
    order stays payable and the client may ask again (``POST /orders/{number}/setup-intent/``).
    """
    secret, error = None, ""
    if with_setup_intent:
        try:
            secret = gateway.setup_intent_create(metadata={"order_number": order.number}).client_secret
        except ServiceUnavailable as exc:
            error = exc.message
    return PaymentInfo(
        publishable_key=settings.STRIPE_PUBLISHABLE_KEY,
        amount_cents=order.total_cents,
        currency=order.currency,
        setup_intent_client_secret=secret,
        stripe_js_url=gateway.stripe_js_url(),
        test_mode=gateway.is_test_mode(),
        error=error,
    )


def order_setup_intent(*, user: AnyUser, number: str) -> PaymentInfo:
    """A fresh SetupIntent for a payable order of the user (the browser's card form needs one per attempt)."""
    order = order_for_user(user=user, number=number)
    if order.status not in PAYABLE:
        raise transition_refused(order, OrderStatus.PAID)
    return payment_info_for(order=order)


def _result(payment: Payment, order: Order, client_secret: str | None = None) -> PayResult:
    status = payment.status
    return PayResult(
        intent_id=payment.stripe_payment_intent_id,
        status=_stripe_status_name(status),
        order_status=order.status,
        client_secret=client_secret if status == Payment.Status.REQUIRES_ACTION else None,
    )


def _stripe_status_name(status: str) -> str:
    return "requires_payment_method" if status == Payment.Status.FAILED else status


def order_pay(*, user: AnyUser, number: str, payment_method: str) -> PayResult:
    """Charge the user's order ``number`` with the Stripe ``payment_method`` id.

    Never charges twice: see the module docstring. A declined card raises PaymentDeclined
    (402) and leaves the order ``payment_failed`` but payable while its reservation lasts.
    """
    if not isinstance(payment_method, str) or not payment_method.strip() or len(payment_method) > 255:
        raise DomainError("payment_method: a Stripe payment method id is required.")
    payment_method = payment_method.strip()
    broker_check()  # the task queue down: 503 before any charge (the paid order is handed on through it)

    for _ in range(2):  # a second round only after an open intent turned out to have failed
        claim, open_payment, answer = _claim_attempt(user=user, number=number, payment_method=payment_method)
        if answer is not None:
            return answer
        if open_payment is not None:
            intent = _refresh_or_abandon(open_payment, payment_method)
            order, payment = payment_apply_intent(intent=intent, actor=user)
            assert order is not None and payment is not None  # the intent is this order's payment's
            if payment.status != Payment.Status.FAILED and payment.status != Payment.Status.CANCELED:
                return _result(payment, order, intent.client_secret)
            continue
        assert claim is not None  # _claim_attempt claims an attempt when it answers nothing else
        return _charge(claim=claim, user=user)
    raise Conflict("The payment could not be started; please try again.", code="payment_in_progress")


def _refresh_or_abandon(payment: Payment, payment_method: str) -> gateway.Intent:
    """Re-read an open intent; one waiting for 3-D Secure is cancelled when the shopper now offers
    another payment method (if it succeeded meanwhile, the cancel fails and the success is kept)."""
    intent_id = payment.stripe_payment_intent_id
    assert intent_id is not None  # only an open payment with an intent id is refreshed
    if payment.status == Payment.Status.REQUIRES_ACTION and payment.payment_method != payment_method:
        try:
            return gateway.payment_intent_cancel(intent_id=intent_id)
        except ServiceUnavailable:
            raise
        except DomainError:
            pass  # no longer cancellable: read what it became
    return gateway.payment_intent_retrieve(intent_id=intent_id)


def order_payment_status(*, user: AnyUser, number: str) -> PayResult:
    """The state of the order's latest payment, re-read from Stripe while it is open.

    What the browser calls after ``stripe.confirmCardPayment`` (3-D Secure): the outcome is
    recorded at once, without waiting for the webhook. Starts no new payment.
    """
    order = order_for_user(user=user, number=number)
    payments = list(order.payments.order_by("attempt"))
    chosen = next((p for p in payments if p.status == Payment.Status.SUCCEEDED), None) or (
        payments[-1] if payments else None
    )
    if chosen is None:
        return PayResult(intent_id=None, status="requires_payment_method", order_status=order.status)
    if chosen.status in _OPEN and chosen.stripe_payment_intent_id:
        intent = gateway.payment_intent_retrieve(intent_id=chosen.stripe_payment_intent_id)
        # The intent is this order's payment's, so it finds the order.
        order, payment = cast("tuple[Order, Payment]", payment_apply_intent(intent=intent, actor=user))
        return _result(payment, order, intent.client_secret)
    return _result(chosen, order)


def _claim_attempt(
    *, user: AnyUser, number: str, payment_method: str
) -> tuple[Payment | None, Payment | None, PayResult | None]:
    """Under the order lock, decide: answer now, re-read an open intent, or claim a new attempt."""
    with transaction.atomic():
        order = order_for_user(user=user, number=number, lock=True)
        payments = list(order.payments.order_by("attempt"))
        succeeded = next((p for p in payments if p.status == Payment.Status.SUCCEEDED), None)
        if succeeded:
            return None, None, _result(succeeded, order)
        if order.status not in PAYABLE:
            raise transition_refused(order, OrderStatus.PAID)
        latest = payments[-1] if payments else None
        if latest and latest.status == Payment.Status.CREATING and latest.updated_at > _now() - STALE_CLAIM:
            raise Conflict(
                "A payment for this order is already being processed; try again in a moment.",
                code="payment_in_progress",
                data={"status": order.status},
            )
        open_payment = next((p for p in reversed(payments) if p.status in _OPEN and p.stripe_payment_intent_id), None)
        if open_payment:
            return None, open_payment, None
        if order.reservation_expires_at and order.reservation_expires_at <= _now():
            raise Conflict(
                f"The stock held for order {order.number} was released when its reservation expired; "
                "please check out again.",
                code="reservation_expired",
                data={"status": order.status},
            )
        if latest and latest.status in (Payment.Status.UNKNOWN, Payment.Status.CREATING):
            claim = latest  # Stripe's answer was lost: retry the same attempt with the same key
            claim.status = Payment.Status.CREATING
            claim.payment_method = payment_method
            claim.save(update_fields=["status", "payment_method", "updated_at"])
        else:
            order.payment_attempts += 1
            order.save(update_fields=["payment_attempts", "updated_at"])
            attempt = order.payment_attempts
            claim = Payment.objects.create(
                order=order,
                attempt=attempt,
                idempotency_key=f"order-{order.number}-pay-{attempt}",
                payment_method=payment_method,
                amount_cents=order.total_cents,
                currency=order.currency,
                status=Payment.Status.CREATING,
            )
        if order.status == OrderStatus.PAYMENT_FAILED:
            order_transition(
                order=order, to=OrderStatus.PENDING_PAYMENT, actor=user, reason=f"New payment attempt {claim.attempt}."
            )
    return claim, None, None


def _charge(*, claim: Payment, user: AnyUser) -> PayResult:
    """Create and confirm the PaymentIntent for a claimed attempt (no lock held), then record it."""
    order = claim.order
    try:
        intent = gateway.payment_intent_create(
            amount_cents=claim.amount_cents,
            currency=claim.currency,
            payment_method=claim.payment_method,
            metadata={"order_number": order.number, "attempt": str(claim.attempt)},
            idempotency_key=claim.idempotency_key,
        )
    except gateway.PaymentDeclined as exc:
        order = payment_record_decline(claim=claim, message=exc.message, intent_id=exc.intent_id, actor=user)
        exc.data["status"] = order.status
        raise
    except ServiceUnavailable:
        Payment.objects.filter(pk=claim.pk, status=Payment.Status.CREATING).update(
            status=Payment.Status.UNKNOWN, last_error="Stripe could not be reached.", updated_at=_now()
        )
        raise
    except DomainError as exc:  # Stripe refused the request (an unknown payment method)
        Payment.objects.filter(pk=claim.pk, status=Payment.Status.CREATING).update(
            status=Payment.Status.FAILED, last_error=exc.message, updated_at=_now()
        )
        raise
    # The intent's metadata names the order, so it is found.
    order, payment = cast("tuple[Order, Payment]", payment_apply_intent(intent=intent, actor=user))
    return _result(payment, order, intent.client_secret)
