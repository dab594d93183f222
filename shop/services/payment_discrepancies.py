"""Stripe payments that do not match their order: recorded and reported, never applied.

``payment_discrepancy_check`` runs for every PaymentIntent webhook before the intent reaches
``payment_outcomes.payment_apply_intent``. It finds, without changing anything:

- an intent that our records give to one order while its ``metadata.order_number`` names
  another (any status: a failed one would fail the wrong order, a succeeded one pay it);
- a succeeded intent of amount 0, or of another currency or amount than the order's total.

Such an event is recorded once as a ``PaymentDiscrepancy`` (unique by event id), the staff
(``settings.PHARMACY_STAFF_EMAILS``) get an e-mail once the transaction commits, and the caller
leaves the order and its payments as they are. The webhook still answers 200, so Stripe stops
retrying.
"""

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from ..models import Order, Payment, PaymentDiscrepancy
from . import stripe_gateway as gateway

log = logging.getLogger(__name__)

Kind = PaymentDiscrepancy.Kind


def payment_discrepancy_check(*, intent: gateway.Intent, event_id: str) -> PaymentDiscrepancy | None:
    """Record and report ``intent`` if it does not match its order; None when it does (or has none)."""
    existing = PaymentDiscrepancy.objects.filter(event_id=event_id).first()
    if existing is not None:
        return existing
    number = intent.metadata.get("order_number") or ""
    ours = Payment.objects.filter(stripe_payment_intent_id=intent.id).select_related("order").first()
    if ours is not None and number and ours.order.number != number:
        return _record(event_id, intent, ours.order, Kind.OTHER_ORDER, f"order {ours.order.number}", f"order {number}")
    order = ours.order if ours is not None else Order.objects.filter(number=number).first() if number else None
    if order is None or intent.status != "succeeded":
        return None
    expected = f"{order.total_cents} {order.currency}"
    received = f"{intent.amount} {intent.currency}"
    if intent.amount == 0:
        return _record(event_id, intent, order, Kind.ZERO_AMOUNT, expected, received)
    if intent.currency != order.currency:
        return _record(event_id, intent, order, Kind.CURRENCY, expected, received)
    if intent.amount != order.total_cents:
        return _record(event_id, intent, order, Kind.AMOUNT, expected, received)
    return None


def _record(
    event_id: str, intent: gateway.Intent, order: Order, kind: str, expected: str, received: str
) -> PaymentDiscrepancy:
    discrepancy = PaymentDiscrepancy.objects.create(
        event_id=event_id,
        order=order,
        stripe_payment_intent_id=intent.id,
        kind=kind,
        expected=expected[:255],
        received=received[:255],
    )
    log.error("Payment discrepancy (%s) for order %s: %s", kind, order.number, intent.id)
    transaction.on_commit(lambda: _alert(discrepancy, order))
    return discrepancy


def _alert(discrepancy: PaymentDiscrepancy, order: Order) -> None:
    """E-mail the staff; a mail server that is down is logged, not raised (the event is kept)."""
    try:
        send_mail(
            subject=f"Payment discrepancy on order {order.number}: {discrepancy.get_kind_display()}",
            message=(
                f"Stripe reported PaymentIntent {discrepancy.stripe_payment_intent_id} (event {discrepancy.event_id}) "
                f"for order {order.number}, and it does not match: "
                f"{discrepancy.get_kind_display()}.\n\n"
                f"Our records: {discrepancy.expected}\nStripe's event: {discrepancy.received}\n\n"
                "The order and its payments were left unchanged. Check the payment in Stripe's dashboard."
            ),
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=list(settings.PHARMACY_STAFF_EMAILS),
        )
    except OSError:
        log.exception("Could not e-mail the staff about payment discrepancy %s", discrepancy.pk)
