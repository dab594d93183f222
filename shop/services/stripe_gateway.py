"""Every call to Stripe, in one module. Nothing else in the project imports ``stripe`` for API calls.

The client is ``stripe.StripeClient`` pointed at ``settings.STRIPE_API_BASE`` when it is set
(localstripe in development and in the tests), so the tests exercise these functions against a
real, if fake, Stripe server. Stripe's errors become ``core.errors`` types:

- a declined card -> ``PaymentDeclined`` (402) with Stripe's message;
- Stripe unreachable, rate-limited, failing or refusing our key -> ``ServiceUnavailable`` (503);
- a bad parameter (an unknown payment method id) -> ``DomainError`` (400) naming the field;
- an idempotency-key clash -> ``Conflict`` (409).

Callers must never hold a database lock while calling these functions.
Results are small frozen dataclasses, so callers never depend on stripe-python's object model.
"""

import json
import logging
import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import stripe
from django.conf import settings

from core.errors import Conflict, DomainError, PaymentRequired, ServiceUnavailable

if TYPE_CHECKING:
    from stripe.params import PaymentIntentCreateParams, SetupIntentCreateParams

log = logging.getLogger(__name__)

STRIPE_JS_URL = "https://js.stripe.com/v3/"


class PaymentDeclined(PaymentRequired):
    """The card was declined; ``intent_id`` is the PaymentIntent when Stripe names it."""

    def __init__(self, message: str, *, intent_id: str | None = None, decline_code: str | None = None):
        super().__init__(message, data={"decline_code": decline_code} if decline_code else None)
        self.intent_id = intent_id
        self.decline_code = decline_code


@dataclass(frozen=True)
class Intent:
    """What the shop needs to know about a PaymentIntent."""

    id: str
    status: str
    amount: int
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)
    client_secret: str | None = None
    last_error: str = ""
    payment_method: str | None = None


@dataclass(frozen=True)
class StripeRefund:
    id: str
    amount: int
    status: str
    payment_intent: str | None
    charge: str | None
    metadata: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class SetupIntent:
    id: str
    client_secret: str | None


def is_test_mode() -> bool:
    """True when payments cannot take real money (a test key or a Stripe stand-in)."""
    return bool(settings.STRIPE_API_BASE) or settings.STRIPE_SECRET_KEY.startswith("sk_test_")


def stripe_js_url() -> str:
    """Where the browser loads Stripe.js from: localstripe serves a stand-in at the same base."""
    base = settings.STRIPE_API_BASE
    return f"{base.rstrip('/')}/js.stripe.com/v3/" if base else STRIPE_JS_URL


@lru_cache(maxsize=8)
def _client_for(api_key: str, api_base: str, retries: int, timeout: float) -> stripe.StripeClient:
    return stripe.StripeClient(
        api_key,
        base_addresses={"api": api_base} if api_base else None,
        max_network_retries=retries,
        http_client=stripe.RequestsClient(timeout=timeout),
    )


def client() -> stripe.StripeClient:
    """The configured Stripe client (cached per configuration, so tests may change settings)."""
    return _client_for(
        settings.STRIPE_SECRET_KEY,
        settings.STRIPE_API_BASE or "",
        getattr(settings, "STRIPE_MAX_NETWORK_RETRIES", 2),
        getattr(settings, "STRIPE_TIMEOUT_SECONDS", 30),
    )


def _as_dict(obj: stripe.StripeObject | dict[str, Any] | None) -> dict[str, Any]:
    if obj is None:
        return {}
    if isinstance(obj, dict):
        return obj
    return obj.to_dict()


def id_of(value: object) -> str | None:
    """An expandable field's id, whether Stripe sent the id or the expanded object."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dict):
        return value.get("id")
    return getattr(value, "id", None)


def intent_from_dict(data: dict[str, Any]) -> Intent:
    """Build an Intent from a PaymentIntent as found in an API answer or an event payload."""
    error = data.get("last_payment_error") or {}
    return Intent(
        id=data["id"],
        status=data.get("status") or "",
        amount=int(data.get("amount") or 0),
        currency=(data.get("currency") or "").lower(),
        metadata=dict(data.get("metadata") or {}),
        client_secret=data.get("client_secret"),
        last_error=(error.get("message") or "") if isinstance(error, dict) else "",
        payment_method=id_of(data.get("payment_method")),
    )


def refund_from_dict(data: dict[str, Any]) -> StripeRefund:
    return StripeRefund(
        id=data["id"],
        amount=int(data.get("amount") or 0),
        status=data.get("status") or "",
        payment_intent=id_of(data.get("payment_intent")),
        charge=id_of(data.get("charge")),
        metadata=dict(data.get("metadata") or {}),
    )


def _translate(exc: stripe.StripeError, *, doing: str) -> DomainError:
    """Turn a stripe-python error into the project's typed error."""
    if isinstance(exc, stripe.CardError):
        error = getattr(exc, "error", None)
        intent_id = id_of(getattr(error, "payment_intent", None)) if error is not None else None
        return PaymentDeclined(
            exc.user_message or "Your card was declined.", intent_id=intent_id, decline_code=getattr(exc, "code", None)
        )
    if isinstance(exc, stripe.IdempotencyError):
        return Conflict(
            f"Stripe refused to repeat an earlier request while {doing}: {exc.user_message}", code="payment_conflict"
        )
    if isinstance(exc, stripe.InvalidRequestError):
        param = getattr(exc, "param", None)
        message = exc.user_message or "Stripe refused the request."
        return DomainError(f"{param}: {message}" if param else message, code="payment_invalid")
    # APIConnectionError, APIError (Stripe 5xx), RateLimitError, AuthenticationError,
    # PermissionError: nothing the shopper can fix; try again later.
    log.warning("Stripe unavailable while %s: %s", doing, exc)
    return ServiceUnavailable(
        f"The payment service could not be reached while {doing}. Please try again in a moment.",
        code="payment_service_unavailable",
    )


def payment_intent_create(
    *, amount_cents: int, currency: str, payment_method: str, metadata: dict[str, str], idempotency_key: str
) -> Intent:
    """Create and confirm (``confirm=True``) a card PaymentIntent; raise PaymentDeclined if declined."""
    # Cast below: stripe-python 16's params types no longer list ``payment_method_types``, which the
    # API (and localstripe) still accept. The same in setup_intent_create.
    params: dict[str, object] = {
        "amount": amount_cents,
        "currency": currency,
        "payment_method": payment_method,
        "payment_method_types": ["card"],
        "confirm": True,
        "metadata": metadata,
    }
    try:
        intent = client().v1.payment_intents.create(
            params=cast("PaymentIntentCreateParams", params), options={"idempotency_key": idempotency_key}
        )
    except stripe.InvalidRequestError as exc:
        if getattr(exc, "http_status", None) == 404:
            raise DomainError(
                f"payment_method: no such payment method {payment_method!r}.", code="payment_invalid"
            ) from exc
        raise _translate(exc, doing="charging the card") from exc
    except stripe.StripeError as exc:
        raise _translate(exc, doing="charging the card") from exc
    return intent_from_dict(_as_dict(intent))


def _payment_intent_call(method: str, intent_id: str, *, doing: str) -> Intent:
    """``client().v1.payment_intents.<method>(intent_id)``, Stripe errors translated."""
    try:
        intent = getattr(client().v1.payment_intents, method)(intent_id)
    except stripe.StripeError as exc:
        raise _translate(exc, doing=doing) from exc
    return intent_from_dict(_as_dict(intent))


def payment_intent_retrieve(*, intent_id: str) -> Intent:
    return _payment_intent_call("retrieve", intent_id, doing="reading the payment")


def payment_intent_cancel(*, intent_id: str) -> Intent:
    """Cancel an intent that has not succeeded (a 3-D Secure the shopper abandoned for another card)."""
    return _payment_intent_call("cancel", intent_id, doing="cancelling the earlier payment")


def setup_intent_create(*, metadata: dict[str, str]) -> SetupIntent:
    """Create a card SetupIntent for the browser to confirm with Stripe.js (card entry on Stripe's side)."""
    try:
        intent = client().v1.setup_intents.create(
            params=cast(
                "SetupIntentCreateParams",
                {"payment_method_types": ["card"], "usage": "on_session", "metadata": metadata},
            )
        )
    except stripe.StripeError as exc:
        raise _translate(exc, doing="preparing the card form") from exc
    return SetupIntent(id=intent.id, client_secret=intent.client_secret)


def refund_create(
    *, payment_intent_id: str, amount_cents: int, metadata: dict[str, str], idempotency_key: str
) -> StripeRefund:
    """Refund ``amount_cents`` of a PaymentIntent. (Stripe's ``reason`` is not sent: localstripe refuses it.)"""
    try:
        refund = client().v1.refunds.create(
            params={"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata},
            options={"idempotency_key": idempotency_key},
        )
    except stripe.StripeError as exc:
        raise _translate(exc, doing="refunding the payment") from exc
    return refund_from_dict(_as_dict(refund))


def refunds_list(*, payment_intent_id: str) -> list[StripeRefund]:
    """Every refund of a PaymentIntent (the first page is enough for an order's handful of refunds)."""
    try:
        page = client().v1.refunds.list(params={"payment_intent": payment_intent_id, "limit": 100})
    except stripe.StripeError as exc:
        raise _translate(exc, doing="reading the refunds") from exc
    return [refund_from_dict(_as_dict(r)) for r in page.data]


def construct_event(*, payload: bytes, signature: str | None) -> object:
    """Verify a webhook's Stripe-Signature and return the decoded JSON body (any JSON value: the
    caller's parser, ``webhook_events.webhook_event_parse``, says whether it is an event).

    Raises ``stripe.SignatureVerificationError`` (bad, missing, stale or future-dated signature:
    stripe-python only refuses a timestamp older than the tolerance, so one more than the tolerance
    ahead of our clock is refused here) or ``ValueError`` (not UTF-8 or not JSON).
    """
    tolerance = settings.STRIPE_WEBHOOK_TOLERANCE
    stripe.WebhookSignature.verify_header(payload, signature, settings.STRIPE_WEBHOOK_SECRET, tolerance=tolerance)
    assert signature is not None  # verify_header refuses a missing header
    if tolerance and _signature_timestamp(signature) > time.time() + tolerance:
        message = "Timestamp is in the future, outside the tolerance zone."
        raise stripe.SignatureVerificationError(message, signature)  # type: ignore[no-untyped-call]  # untyped in stripe 16
    return json.loads(payload, parse_constant=_refuse_constant)


def _signature_timestamp(header: str) -> int:
    """The latest ``t=`` of a Stripe-Signature header (already parsed once by stripe-python)."""
    stamps = [int(value) for key, _, value in (part.partition("=") for part in header.split(",")) if key.strip() == "t"]
    return max(stamps)


def _refuse_constant(name: str) -> object:
    raise ValueError(f"{name} is not valid JSON.")
