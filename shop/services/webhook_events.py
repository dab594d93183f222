"""The one parser every Stripe webhook payload goes through, before anything is stored.

``webhook_event_parse`` takes the verified, decoded JSON body and checks the event envelope
(``id``, ``type``, ``data.object``) and, for the types the shop applies, the object's fields
(a PaymentIntent's, a Charge's refund list, a Refund's). A malformed payload raises
``MalformedEvent`` (400, code ``invalid_event``) whose message names the field, e.g.
``data.object.amount: must be a whole number of cents``. Stripe only ever sends well-formed
events, so a refused one is a forgery by someone holding the secret, or a bug: nothing of it is
kept. Strings holding NUL bytes (which PostgreSQL cannot store) and non-JSON numbers (NaN) are
refused too. The shapes it accepts are exactly what ``stripe_gateway.intent_from_dict`` and
``refund_from_dict`` read.
"""

from dataclasses import dataclass
from typing import Any

from core.errors import DomainError

INTENT_EVENTS = frozenset(
    {
        "payment_intent.succeeded",
        "payment_intent.payment_failed",
        "payment_intent.processing",
        "payment_intent.canceled",
        "payment_intent.requires_action",
    }
)
REFUND_EVENTS = frozenset({"charge.refunded", "refund.created", "refund.updated", "charge.refund.updated"})

ID_MAX = 255  # StripeEvent.event_id, Payment.stripe_payment_intent_id, Refund.stripe_refund_id
TYPE_MAX = 100  # StripeEvent.type
TEXT_MAX = 5000
AMOUNT_MAX = 99_999_999  # Stripe's largest charge amount, in the smallest currency unit
METADATA_VALUE_MAX = 500  # Stripe's own limit


class MalformedEvent(DomainError):
    code = "invalid_event"


@dataclass(frozen=True)
class WebhookEvent:
    """A parsed event: its id, type, the whole payload (a JSON object) and ``data.object``."""

    id: str
    type: str
    payload: dict[str, Any]
    object: dict[str, Any]


def webhook_event_parse(body: object) -> WebhookEvent:
    """Check a decoded webhook body; raise ``MalformedEvent`` naming the first bad field."""
    if not isinstance(body, dict):
        raise MalformedEvent("body: must be a JSON object (a Stripe event).")
    _refuse_nul(body, "body")
    event_id = _text(body, "id", "id", required=True, limit=ID_MAX)
    event_type = _text(body, "type", "type", required=True, limit=TYPE_MAX)
    data = body.get("data")
    if not isinstance(data, dict):
        raise MalformedEvent("data: must be an object.")
    obj = data.get("object")
    if not isinstance(obj, dict):
        raise MalformedEvent("data.object: must be an object.")
    if event_type in INTENT_EVENTS:
        _check_intent(obj, "data.object")
    elif event_type in REFUND_EVENTS:
        if event_type.startswith("refund.") or obj.get("object") == "refund":
            _check_refund(obj, "data.object")
        else:
            _check_charge(obj, "data.object")
    return WebhookEvent(id=event_id, type=event_type, payload=body, object=obj)


def _check_intent(obj: dict[str, Any], where: str) -> None:
    _text(obj, "id", where, required=True, limit=ID_MAX)
    _text(obj, "status", where, required=True, limit=TYPE_MAX)
    _amount(obj, where, required=True)
    _text(obj, "currency", where, limit=10)
    _text(obj, "client_secret", where, limit=TEXT_MAX)
    _metadata(obj, where)
    _expandable(obj, "payment_method", where)
    error = obj.get("last_payment_error")
    if error is not None:
        if not isinstance(error, dict):
            raise MalformedEvent(f"{where}.last_payment_error: must be an object or null.")
        _text(error, "message", f"{where}.last_payment_error", limit=TEXT_MAX)


def _check_refund(obj: dict[str, Any], where: str) -> None:
    _text(obj, "id", where, required=True, limit=ID_MAX)
    _amount(obj, where, required=True)
    _text(obj, "status", where, limit=TYPE_MAX)
    _expandable(obj, "payment_intent", where)
    _expandable(obj, "charge", where)
    _metadata(obj, where)


def _check_charge(obj: dict[str, Any], where: str) -> None:
    _expandable(obj, "payment_intent", where)
    listed = obj.get("refunds")
    if listed is None:
        return
    if not isinstance(listed, dict):
        raise MalformedEvent(f"{where}.refunds: must be a list object or null.")
    items = listed.get("data")
    if items is None:
        return
    if not isinstance(items, list):
        raise MalformedEvent(f"{where}.refunds.data: must be a list.")
    if not isinstance(listed.get("has_more", False), bool):
        raise MalformedEvent(f"{where}.refunds.has_more: must be true or false.")
    for n, item in enumerate(items):
        if not isinstance(item, dict):
            raise MalformedEvent(f"{where}.refunds.data[{n}]: must be a refund object.")
        _check_refund(item, f"{where}.refunds.data[{n}]")


def _text(obj: dict[str, Any], key: str, where: str, *, required: bool = False, limit: int) -> str:
    name = key if where == key else f"{where}.{key}"
    value = obj.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value):
        raise MalformedEvent(f"{name}: must be a {'non-empty ' if required else ''}string.")
    if len(value) > limit:
        raise MalformedEvent(f"{name}: longer than {limit} characters.")
    return value


def _amount(obj: dict[str, Any], where: str, *, required: bool) -> None:
    value = obj.get("amount")
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedEvent(f"{where}.amount: must be a whole number of cents.")
    if not 0 <= value <= AMOUNT_MAX:
        raise MalformedEvent(f"{where}.amount: must be between 0 and {AMOUNT_MAX}.")


def _metadata(obj: dict[str, Any], where: str) -> None:
    metadata = obj.get("metadata")
    if metadata is None:
        return
    if not isinstance(metadata, dict):
        raise MalformedEvent(f"{where}.metadata: must be an object of strings.")
    for key, value in metadata.items():
        if not isinstance(value, str) or len(value) > METADATA_VALUE_MAX:
            raise MalformedEvent(f"{where}.metadata.{key[:40]}: must be a string of at most {METADATA_VALUE_MAX}.")


def _expandable(obj: dict[str, Any], key: str, where: str) -> None:
    """An id, an expanded object with an id, or null."""
    value = obj.get(key)
    if isinstance(value, dict):
        _text(value, "id", f"{where}.{key}", required=True, limit=ID_MAX)
    elif value is not None:
        _text(obj, key, where, required=True, limit=ID_MAX)


def _refuse_nul(value: object, where: str) -> None:
    if isinstance(value, str):
        if "\x00" in value:
            raise MalformedEvent(f"{where}: contains a NUL byte.")
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                raise MalformedEvent(f"{where}: a key contains a NUL byte.")
            _refuse_nul(item, f"{where}.{key[:40]}" if where != "body" else key[:40])
    elif isinstance(value, list):
        for n, item in enumerate(value):
            _refuse_nul(item, f"{where}[{n}]")
