"""Typed domain errors. Services raise these; one DRF handler turns them into 4xx responses.

Each carries a stable ``code``, a human ``message`` and optional ``data`` that goes into the
response body as is (for example every short line of an insufficient-stock error).
"""

from typing import Any


class DomainError(Exception):
    status_code = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, data: dict[str, Any] | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.data = data or {}


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    """The request is valid but the current state forbids it (HTTP 409)."""

    status_code = 409
    code = "conflict"


class PaymentRequired(DomainError):
    """The card was declined (HTTP 402)."""

    status_code = 402
    code = "payment_declined"


class ServiceUnavailable(DomainError):
    """A peer we depend on (Stripe, the carrier) could not be reached (HTTP 503)."""

    status_code = 503
    code = "service_unavailable"


class RequestTooLarge(DomainError):
    """The request body is larger than the API accepts (HTTP 413)."""

    status_code = 413
    code = "request_too_large"
