"""core.headers: every response carries the production Content-Security-Policy and Permissions-Policy;
inline blocks carry the request's nonce; /api/docs/ loads Swagger UI from the project, not a CDN."""

import base64
import hashlib
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.urls import reverse

from core.headers import permissions_policy, stripe_policy

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]
ERROR_PAGE_STYLE_HASH = "'sha256-SlPdcaoFrHx4FSrJO/vLwa6hRjKVc3rJCmZMn7l5p/c='"


def _directives(header):
    return {part.split()[0]: part.split()[1:] for part in header.split("; ")}


@override_settings(STRIPE_API_BASE="")  # production: real Stripe, no stand-in
def test_pages_carry_the_production_policies(client):
    response = client.get(reverse("catalog:product-list"))
    assert response.status_code == 200
    csp = _directives(response["Content-Security-Policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'", "https://js.stripe.com"]  # no nonce used on this page, no inline
    assert csp["style-src"] == ["'self'", ERROR_PAGE_STYLE_HASH]
    assert csp["connect-src"] == ["'self'", "https://api.stripe.com"]
    assert csp["frame-src"] == ["https://js.stripe.com", "https://hooks.stripe.com"]
    assert csp["object-src"] == ["'none'"] and csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "127.0.0.1" not in response["Content-Security-Policy"]
    assert response["Permissions-Policy"] == (
        'camera=(), microphone=(), geolocation=(), payment=(self "https://js.stripe.com")'
    )


def test_the_api_carries_them_too(client):
    response = client.get("/api/v1/products/")
    assert "Content-Security-Policy" in response and "Permissions-Policy" in response


@override_settings(STRIPE_API_BASE="http://127.0.0.1:8420")
def test_the_stripe_stand_in_origin_is_allowed_where_stripe_js_needs_it(client):
    csp = _directives(client.get(reverse("catalog:product-list"))["Content-Security-Policy"])
    for directive in ("script-src", "connect-src", "frame-src"):
        assert "http://127.0.0.1:8420" in csp[directive]
    assert "http://127.0.0.1:8420" not in csp["style-src"] + csp["default-src"]


@override_settings(STRIPE_API_BASE="")
def test_api_docs_load_swagger_from_the_project_with_nonced_inline_blocks(client):
    response = client.get(reverse("api-docs"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "cdn.jsdelivr.net" not in body and "@latest" not in body
    assert not re.search(r'(src|href)="https?://', body), "an asset from another origin"
    assert '/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"' in body
    nonce = _directives(response["Content-Security-Policy"])["script-src"][1]
    assert re.fullmatch(r"'nonce-[\w-]+'", nonce)
    value = nonce[len("'nonce-") : -1]
    assert body.count(f'nonce="{value}"') == 2  # the inline <style> and the inline <script>
    assert len(re.findall(r"<(script|style)(?![^>]*\bsrc=)[^>]*>", body)) == 2  # and no other inline block


def test_stripe_policy_leaves_the_policy_alone_without_a_stand_in():
    policy = {"script-src": ["'self'"]}
    assert stripe_policy(policy, "") is policy
    assert stripe_policy({"frame-src": "x"}, "http://h:1/path")["frame-src"] == ["x", "http://h:1"]


def test_permissions_policy_header_value():
    assert permissions_policy({"camera": "()", "payment": "(self)"}) == "camera=(), payment=(self)"


def test_the_500_page_inline_style_is_the_one_the_policy_allows_by_hash():
    """templates/500.html renders without a request (no nonce); editing its <style> needs a new hash."""
    css = re.search(r"<style>(.*?)</style>", (ROOT / "templates" / "500.html").read_text(), re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    assert f"'sha256-{digest}'" == ERROR_PAGE_STYLE_HASH
    assert ERROR_PAGE_STYLE_HASH in settings.SECURE_CSP["style-src"]
