"""Shop fixtures: a real localstripe server, signed webhooks, products, shoppers and orders.

- ``localstripe_server`` (session): ``python -m shop.stripe_local`` on a free loopback port.
- ``localstripe`` (function): points the Stripe settings at that server and clears its data
  (``DELETE /_config/data``) before the test. Request it in every test that talks to Stripe.
  It yields a ``LocalStripe`` helper (``url``, ``get``/``post``, ``payment_intents()``,
  ``refunds()``, ``card_payment_method(number)``, ``authenticate(intent_id, ...)``,
  ``register_webhook(url)``).
- ``sign_stripe(payload, secret=None, t=None)``: a Stripe-Signature header, computed exactly like
  Stripe: ``t=<unix>,v1=<hex HMAC-SHA256(secret, f"{t}.{payload}")>``.
- ``post_webhook(event, ...)``: POST an event dict, signed, to the webhook URL.
- ``stripe_event(type, obj)``, ``intent_object(intent_id=, order=, status=)``: payload builders.
- ``make_product(...)``, ``make_user``, ``shopper``, ``shopper_client``, ``api_client_for(user)``,
  ``shipping``, ``checkout_order(client, {product: qty})``, ``pay(client, number, pm)``, ``paid_order``.
- ``owner``, ``patient`` (the owner's), ``pharmacist``: made with ``fulfilment_helpers`` (no Stripe).
"""

import hashlib
import hmac
import json
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Drug, PriceTier, Product, StockLot

from . import fulfilment_helpers

WEBHOOK_URL = "/api/v1/payments/stripe/webhook/"
WEBHOOK_SECRET = "whsec_test_pharmacy"
PUBLISHABLE_KEY = "pk_test_pharmacy"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalStripe:
    """A thin client for the test's localstripe (its API and its /_config endpoints)."""

    def __init__(self, url: str):
        self.url = url
        self.http = requests.Session()
        self.http.auth = ("sk_test_pharmacy", "")

    def get(self, path, **params):
        response = self.http.get(self.url + path, params=params, timeout=5)
        response.raise_for_status()
        return response.json()

    def post(self, path, data=None):
        response = self.http.post(self.url + path, data=data or {}, timeout=5)
        response.raise_for_status()
        return response.json() if response.content else None

    def payment_intents(self) -> list[dict]:
        return self.get("/v1/payment_intents", limit=100)["data"]

    def refunds(self) -> list[dict]:
        return self.get("/v1/refunds", limit=100)["data"]

    def card_payment_method(self, number: str) -> str:
        """A card PaymentMethod id (what Stripe.js would create in the browser)."""
        return self.post(
            "/v1/payment_methods",
            {
                "type": "card",
                "card[number]": number,
                "card[exp_month]": "12",
                "card[exp_year]": "2030",
                "card[cvc]": "123",
            },
        )["id"]

    def authenticate(self, intent_id: str, client_secret: str, *, success: bool = True) -> dict:
        """Complete (or fail) 3-D Secure as the browser's Stripe.js would."""
        response = requests.post(
            f"{self.url}/v1/payment_intents/{intent_id}/_authenticate",
            data={"client_secret": client_secret, "success": "true" if success else "false", "key": PUBLISHABLE_KEY},
            timeout=5,
        )
        response.raise_for_status()
        return response.json()

    def register_webhook(self, name: str, url: str, secret: str = WEBHOOK_SECRET):
        requests.post(
            f"{self.url}/_config/webhooks/{name}", data={"url": url, "secret": secret}, timeout=5
        ).raise_for_status()

    def unregister_webhook(self, name: str):
        requests.delete(f"{self.url}/_config/webhooks/{name}", timeout=5).raise_for_status()

    def clear(self):
        requests.delete(f"{self.url}/_config/data", timeout=5).raise_for_status()


@pytest.fixture(scope="session")
def localstripe_server():
    """Run localstripe (through the shop's launcher) on a free loopback port for the session."""
    port = _free_port()
    root = Path(django_settings.BASE_DIR)
    # Its output goes to a file: a pipe nobody reads could fill up and stall the server.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "shop.stripe_local", "--port", str(port), "--quiet"],
        cwd=root,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail(f"localstripe exited: {log.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                proc.kill()
                pytest.fail("localstripe did not start in 20 s")
            time.sleep(0.05)
    yield LocalStripe(url)
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture
def localstripe(localstripe_server, settings):
    """Stripe settings pointed at the session's localstripe, with its data cleared."""
    settings.STRIPE_API_BASE = localstripe_server.url
    settings.STRIPE_SECRET_KEY = "sk_test_pharmacy"
    settings.STRIPE_PUBLISHABLE_KEY = PUBLISHABLE_KEY
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.STRIPE_MAX_NETWORK_RETRIES = 0
    settings.STRIPE_TIMEOUT_SECONDS = 10
    localstripe_server.clear()
    return localstripe_server


@pytest.fixture
def sign_stripe():
    def sign(payload: str, secret: str = WEBHOOK_SECRET, t: int | None = None) -> str:
        t = int(time.time()) if t is None else t
        digest = hmac.new(secret.encode(), f"{t}.{payload}".encode(), hashlib.sha256).hexdigest()
        return f"t={t},v1={digest}"

    return sign


def _stripe_event(event_type: str, obj: dict, *, event_id: str | None = None, created: int | None = None) -> dict:
    """An event dict shaped like Stripe's."""
    return {
        "id": event_id or f"evt_test_{time.monotonic_ns()}",
        "object": "event",
        "type": event_type,
        "api_version": "2024-06-20",
        "created": created or int(time.time()),
        "livemode": False,
        "data": {"object": obj},
    }


def _intent_object(
    *, intent_id: str, order, status: str, attempt: int | None = 1, amount: int | None = None, error: str | None = None
) -> dict:
    metadata = {"order_number": order.number}
    if attempt is not None:
        metadata["attempt"] = str(attempt)
    return {
        "id": intent_id,
        "object": "payment_intent",
        "status": status,
        "amount": order.total_cents if amount is None else amount,
        "currency": order.currency,
        "metadata": metadata,
        "client_secret": f"{intent_id}_secret_x",
        "payment_method": "pm_x",
        "last_payment_error": {"message": error, "code": "card_declined"} if error else None,
    }


@pytest.fixture
def stripe_event():
    """``stripe_event(type, object, event_id=None, created=None)``: an event dict shaped like Stripe's."""
    return _stripe_event


@pytest.fixture
def intent_object():
    """``intent_object(intent_id=, order=, status=, attempt=1, amount=None, error=None)``: a PaymentIntent dict."""
    return _intent_object


@pytest.fixture
def post_webhook(sign_stripe, settings):
    settings.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET

    def post(
        event: dict,
        *,
        client=None,
        secret: str = WEBHOOK_SECRET,
        t: int | None = None,
        signature=None,
        raw: str | None = None,
    ):
        payload = raw if raw is not None else json.dumps(event)
        headers = {}
        sig = sign_stripe(payload, secret, t) if signature is None else signature
        if sig:
            headers["HTTP_STRIPE_SIGNATURE"] = sig
        return (client or APIClient()).post(WEBHOOK_URL, data=payload, content_type="application/json", **headers)

    return post


_ndc_counter = iter(range(1, 10_000_000))


@pytest.fixture
def make_product(db):
    def make(
        *,
        on_hand: int = 100,
        tiers=((1, "0.50"), (30, "0.45"), (90, "0.40")),
        rx_required: bool = False,
        threshold: int = 0,
        name: str | None = None,
        ndc: str | None = None,
    ) -> Product:
        n = next(_ndc_counter)
        ndc = ndc or f"{90000000000 + n:011d}"
        drug, _ = Drug.objects.get_or_create(
            name="Baclofen", defaults={"slug": "baclofen", "active_ingredient": "baclofen"}
        )
        product = Product.objects.create(
            drug=drug,
            name=name or f"Baclofen 10 mg #{n}",
            slug=f"baclofen-10-{ndc}",
            ndc=ndc,
            manufacturer="UPSHER SMITH LA",
            strength=Decimal("10"),
            strength_unit="mg",
            dosage_form="tablet",
            route="oral",
            selling_unit="tablet",
            rx_required=rx_required,
            low_stock_threshold=threshold,
        )
        for min_quantity, price in tiers:
            PriceTier.objects.create(product=product, min_quantity=min_quantity, unit_price=Decimal(price))
        if on_hand:
            StockLot.objects.create(
                product=product,
                lot_number=f"LOT-{n}",
                quantity_received=on_hand,
                quantity_on_hand=on_hand,
                expiry_date=timezone.localdate() + timedelta(days=365),
            )
        return product

    return make


_user_counter = iter(range(1, 10_000_000))


@pytest.fixture
def make_user(db):
    def make(*, staff: bool = False, name: str | None = None):
        n = next(_user_counter)
        username = name or f"shopper{n}"
        return get_user_model().objects.create_user(
            username=username,
            email=f"{username}@example.com",
            password="pw-For-tests-1",
            is_staff=staff,
            is_superuser=staff,
        )

    return make


@pytest.fixture
def shopper(make_user):
    return make_user()


def _api_client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api_client_for():
    """``api_client_for(user)``: an APIClient authenticated as ``user`` (None: anonymous)."""
    return _api_client_for


@pytest.fixture
def shopper_client(shopper):
    return _api_client_for(shopper)


@pytest.fixture
def shipping():
    return {
        "shipping_name": "Ada Lovelace",
        "shipping_line1": "1 Main St",
        "shipping_city": "Springfield",
        "shipping_state": "IL",
        "shipping_postal_code": "62701",
        "shipping_country": "US",
    }


@pytest.fixture
def checkout_order(shipping):
    """Fill the client's cart with ``{product: quantity}`` and check out; return the 201 body."""

    def checkout(client: APIClient, items: dict, *, expect: int = 201) -> dict:
        for product, quantity in items.items():
            response = client.post(
                reverse("shop-api:cart-items"), {"product": product.ndc, "quantity": quantity}, format="json"
            )
            assert response.status_code == 201, response.json()
        response = client.post(reverse("shop-api:checkout"), shipping, format="json")
        assert response.status_code == expect, response.json()
        return response.json()

    return checkout


def _pay(client: APIClient, number: str, payment_method: str = "pm_card_visa"):
    return client.post(reverse("shop-api:order-pay", args=[number]), {"payment_method": payment_method}, format="json")


@pytest.fixture
def pay():
    """``pay(client, number, payment_method="pm_card_visa")``: POST the pay endpoint."""
    return _pay


@pytest.fixture
def paid_order(localstripe, make_product, shopper, shopper_client, checkout_order, pay):
    """An order of two lines paid with pm_card_visa (ready to fulfil: no prescription lines)."""
    from shop.models import Order

    a = make_product(on_hand=50)
    b = make_product(on_hand=50)
    body = checkout_order(shopper_client, {a: 10, b: 30})
    response = pay(shopper_client, body["number"])
    assert response.status_code == 200, response.json()
    return Order.objects.get(number=body["number"])


@pytest.fixture
def pharmacist(db):
    return fulfilment_helpers.make_user(name="pharmacist_f", pharmacist=True)


@pytest.fixture
def owner(db):
    return fulfilment_helpers.make_user()


@pytest.fixture
def patient(owner):
    return fulfilment_helpers.make_patient(owner)
