"""Stripe webhooks: verify, store each event once, apply it to our records.

``stripe_webhook_receive`` verifies the Stripe-Signature (bad, missing, stale or dated in the
future beyond the tolerance -> 400, nothing stored), then checks the body with the one parser,
``webhook_events.webhook_event_parse`` (a malformed event -> 400 naming the field, nothing
stored). The event is then inserted under its unique id *in the same transaction*
that applies it: a second delivery (even at the same moment: the second INSERT waits for the
first transaction and then hits the unique constraint) does nothing, while an event whose
processing fails is rolled back with its row, so Stripe's retry is processed again.

Handled types:
- ``payment_intent.succeeded`` / ``payment_failed`` / ``processing`` / ``canceled`` /
  ``requires_action``: through ``payment_outcomes.payment_apply_intent`` (the same function as the pay
  request), which finds the order from the intent's ``metadata.order_number`` and locks it.
  A late or out-of-order snapshot never moves a payment or a paid order backwards. An intent
  that does not match its order (amount 0, another amount or currency, another order's intent)
  is recorded as a ``PaymentDiscrepancy`` and reported to the staff instead
  (``payment_discrepancies``); the order is left alone and the event answered 200.
- ``charge.refunded`` (and ``refund.created`` / ``refund.updated``): each refund recorded once
  by its Stripe id. When the charge's refund list is not in the payload (newer API versions)
  it is read from Stripe before the transaction starts.
Anything else is stored and marked ignored. An event whose order cannot be found is stored
unprocessed; ``stripe_events_process_pending`` (beat) tries it again later.
"""

import logging
from dataclasses import dataclass
from typing import Any

import stripe
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import DomainError

from ..models import StripeEvent
from . import stripe_gateway as gateway
from .payment_discrepancies import payment_discrepancy_check
from .payment_outcomes import payment_apply_intent
from .refunds import refund_record_from_stripe
from .transitions import STRIPE_WEBHOOK
from .webhook_events import INTENT_EVENTS, REFUND_EVENTS, MalformedEvent, WebhookEvent, webhook_event_parse

log = logging.getLogger(__name__)


class BadSignature(DomainError):
    code = "invalid_signature"


@dataclass(frozen=True)
class WebhookOutcome:
    event_id: str
    type: str
    duplicate: bool
    processed: bool
    result: str


def stripe_webhook_receive(*, payload: bytes, signature: str | None) -> WebhookOutcome:
    """Verify and apply one webhook delivery. Idempotent by event id."""
    if not signature:
        raise BadSignature("Missing Stripe-Signature header.")
    try:
        body = gateway.construct_event(payload=payload, signature=signature)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(f"Stripe-Signature does not verify: {exc.user_message or exc}") from exc
    except (ValueError, RecursionError) as exc:
        raise MalformedEvent("body: not JSON.") from exc
    try:
        event = webhook_event_parse(body)
    except RecursionError as exc:
        raise MalformedEvent("body: nested too deeply.") from exc
    event_id, event_type = event.id, event.type
    if StripeEvent.objects.filter(event_id=event_id).exists():
        return WebhookOutcome(event_id, event_type, duplicate=True, processed=False, result="duplicate")
    refunds = _refunds_of(event) if event_type in REFUND_EVENTS else None  # Stripe call: before the transaction
    try:
        with transaction.atomic():
            row = StripeEvent.objects.create(event_id=event_id, type=event_type, payload=_scrubbed(event.payload))
            processed, result = _apply(event, refunds)
            _mark(row, processed, result)
    except IntegrityError:
        if StripeEvent.objects.filter(event_id=event_id).exists():
            return WebhookOutcome(event_id, event_type, duplicate=True, processed=False, result="duplicate")
        raise
    return WebhookOutcome(event_id, event_type, duplicate=False, processed=processed, result=result)


def _scrubbed(event: dict[str, Any]) -> dict[str, Any]:
    """The event as stored: without the PaymentIntent's client secret, which we never keep."""
    obj = _object(event)
    if "client_secret" not in obj:
        return event
    return {**event, "data": {**event["data"], "object": {k: v for k, v in obj.items() if k != "client_secret"}}}


def _mark(row: StripeEvent, processed: bool, result: str) -> None:
    row.result = result
    row.processed_at = timezone.now() if processed else None
    row.save(update_fields=["result", "processed_at"])


def _object(event: dict[str, Any]) -> dict[str, Any]:
    data = event.get("data") or {}
    obj = data.get("object") if isinstance(data, dict) else None
    return obj if isinstance(obj, dict) else {}


def _refunds_of(event: WebhookEvent) -> list[gateway.StripeRefund]:
    obj = event.object
    if event.type.startswith("refund.") or obj.get("object") == "refund":
        return [gateway.refund_from_dict(obj)] if obj.get("id") else []
    listed = obj.get("refunds")
    if isinstance(listed, dict) and isinstance(listed.get("data"), list) and not listed.get("has_more"):
        intent = gateway.id_of(obj.get("payment_intent"))
        refunds = []
        for item in listed["data"]:
            refund = gateway.refund_from_dict(item)
            if refund.payment_intent is None and intent:
                refund = gateway.StripeRefund(
                    refund.id, refund.amount, refund.status, intent, refund.charge, refund.metadata
                )
            refunds.append(refund)
        return refunds
    intent = gateway.id_of(obj.get("payment_intent"))
    return gateway.refunds_list(payment_intent_id=intent) if intent else []


def _apply(event: WebhookEvent, refunds: list[gateway.StripeRefund] | None) -> tuple[bool, str]:
    """Apply the event; return (processed, what happened)."""
    event_type = event.type
    if event_type in INTENT_EVENTS:
        intent = gateway.intent_from_dict(event.object)
        discrepancy = payment_discrepancy_check(intent=intent, event_id=event.id)
        if discrepancy is not None:
            return True, f"payment discrepancy ({discrepancy.kind}) on order {discrepancy.order.number}: no change"
        order, payment = payment_apply_intent(intent=intent, actor=STRIPE_WEBHOOK)
        if order is None:
            return False, f"no order for intent {intent.id} yet"
        assert payment is not None  # found with its order
        return True, f"order {order.number} is {order.status}; payment {payment.status}"
    if event_type in REFUND_EVENTS:
        recorded = [
            r
            for r in (refund_record_from_stripe(stripe_refund=s, actor=STRIPE_WEBHOOK) for s in refunds or [])
            if r is not None
        ]
        if refunds and not recorded:
            return False, "no payment of ours matches these refunds yet"
        return True, f"{len(recorded)} refund(s) recorded"
    return True, "ignored"


def stripe_events_process_pending(*, limit: int = 100) -> int:
    """Apply stored events that found no order when they arrived. Returns how many are now processed."""
    done = 0
    for event_id in list(
        StripeEvent.objects.filter(processed_at__isnull=True)
        .order_by("received_at")
        .values_list("event_id", flat=True)[:limit]
    ):
        row = StripeEvent.objects.get(event_id=event_id)
        try:
            event = webhook_event_parse(row.payload)
        except MalformedEvent as exc:  # stored before the parser existed
            _mark(row, True, f"ignored: malformed ({exc.message})")
            continue
        refunds = _refunds_of(event) if row.type in REFUND_EVENTS else None
        with transaction.atomic():
            row = StripeEvent.objects.select_for_update().get(pk=row.pk)
            if row.processed_at is not None:
                continue
            processed, result = _apply(event, refunds)
            _mark(row, processed, result)
            done += processed
    return done
