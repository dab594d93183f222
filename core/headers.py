"""Security headers every response carries: Content-Security-Policy and Permissions-Policy.

The policies are settings (``SECURE_CSP``, ``PERMISSIONS_POLICY`` in pharmacy/settings.py); these
middlewares only write them. Django's CSP middleware does the nonce; ours adds the origin of
``STRIPE_API_BASE`` (the local Stripe stand-in in development and tests; empty in production, where
Stripe.js comes from js.stripe.com as the settings already allow).
"""

from collections.abc import Callable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware import csp

# The directives the Stripe stand-in's script, API calls and frames need.
STRIPE_DIRECTIVES = ("script-src", "connect-src", "frame-src")


def stripe_policy(policy: dict[str, object], api_base: str) -> dict[str, object]:
    """``policy`` with the origin of ``api_base`` allowed where Stripe.js needs it (unchanged if empty)."""
    parts = urlsplit(api_base)
    if not parts.scheme or not parts.netloc:
        return policy
    origin = f"{parts.scheme}://{parts.netloc}"
    extended = dict(policy)
    for directive in STRIPE_DIRECTIVES:
        values = policy.get(directive) or []
        extended[directive] = [*values, origin] if isinstance(values, list | tuple) else [values, origin]
    return extended


class ContentSecurityPolicyMiddleware(csp.ContentSecurityPolicyMiddleware):
    """Django's CSP middleware, with the Stripe stand-in's origin when ``STRIPE_API_BASE`` is set."""

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        if settings.STRIPE_API_BASE and not hasattr(response, "_csp_config"):
            response._csp_config = stripe_policy(settings.SECURE_CSP, settings.STRIPE_API_BASE)  # type: ignore[attr-defined]
        return super().process_response(request, response)


def permissions_policy(features: dict[str, str]) -> str:
    """The header value: ``camera=(), payment=(self "https://js.stripe.com")``."""
    return ", ".join(f"{feature}={allow}" for feature, allow in features.items())


class PermissionsPolicyMiddleware:
    """Write ``Permissions-Policy`` from ``PERMISSIONS_POLICY`` unless the view set its own."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if settings.PERMISSIONS_POLICY and "Permissions-Policy" not in response:
            response["Permissions-Policy"] = permissions_policy(settings.PERMISSIONS_POLICY)
        return response
