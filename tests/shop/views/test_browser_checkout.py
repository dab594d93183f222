"""The shop in headless Chromium: product page -> cart -> checkout -> card page (localstripe's
Stripe.js stand-in) -> the order in the account. One browser for the module, a fresh context
(cookies) per test."""

import os
import re
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from shop.models import Order
from shop.state import PAID_STATES, PAYABLE, OrderStatus

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PRODUCT_URL = "/products/baclofen-10-mg-tablet/"
PASSWORD = "pw-For-tests-1"
TIMEOUT_MS = 15_000


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the module. Playwright's sync API keeps an event loop running in this
    thread, which makes Django refuse database calls from it ("async unsafe"); the tests' own
    database calls are plain synchronous code, so that check is lifted while the browser lives."""
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def seeded(transactional_db):
    call_command("load_seed_catalogue", stdout=StringIO())


@pytest.fixture
def buyer(transactional_db):
    return get_user_model().objects.create_user(username="ada", email="ada@example.com", password=PASSWORD)


@pytest.fixture
def page(browser, seeded, buyer, localstripe, live_server):
    context = browser.new_context(base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


def buy_to_the_card_page(page, live_server, *, quantity: int) -> str:
    """Product page -> +/- to ``quantity`` -> cart -> sign in -> checkout -> card page; the order number."""
    page.goto(PRODUCT_URL)
    for _ in range(quantity):  # from 1 up to quantity + 1, then one back down: both buttons are used
        page.click("button[aria-label='Increase quantity']")
    page.click("button[aria-label='Decrease quantity']")
    assert page.input_value("#quantity") == str(quantity)
    page.click("#add-to-cart button[type=submit]")
    page.wait_for_url("**/cart/")
    assert page.locator(".cart-line").count() == 1
    page.click("#checkout-button")
    page.wait_for_url(re.compile(r"/accounts/login/"))
    page.fill("input[name=username]", "ada")
    page.fill("input[name=password]", PASSWORD)
    page.click("main form button[type=submit]")
    page.wait_for_url("**/checkout/")
    page.fill("#id_name", "Ada Lovelace")
    page.fill("#id_line1", "1 Main St")
    page.fill("#id_city", "Springfield")
    page.fill("#id_state", "IL")
    page.fill("#id_postal_code", "62701")
    page.click("#place-order")
    page.wait_for_url(re.compile(r"/orders/PH-[0-9A-Z]{8}/pay/$"))
    assert "Test mode" in page.text_content("#test-mode-note")
    assert page.locator(".test-banner").is_visible()
    return re.search(r"/orders/(PH-[0-9A-Z]{8})/pay/", page.url).group(1)


def enter_card(page, number: str):
    card = page.locator("#card-element")
    card.locator("input[placeholder=number]").fill(number)
    card.locator("input[placeholder=exp_month]").fill("12")
    card.locator("input[placeholder=exp_year]").fill("30")
    card.locator("input[placeholder=cvc]").fill("123")
    card.locator("input[placeholder=postal_code]").fill("62701")


def pay(page, number: str):
    enter_card(page, number)
    page.wait_for_function("!document.getElementById('pay-button').disabled")
    page.click("#pay-button")


def assert_paid_in_account(page, number: str, quantity: int):
    page.wait_for_url(f"**/account/orders/{number}/")
    order = Order.objects.get(number=number)
    assert order.status in PAID_STATES
    expected = Decimal("2.48") * quantity  # baclofen 10 mg: $2.48 a tablet from 1 to 29
    assert order.total == expected
    assert page.text_content("#order-total") == f"${expected}"
    assert page.text_content("#order-status") in {OrderStatus(s).label for s in PAID_STATES}
    page.click("nav.site-nav >> text=Orders")
    row = page.locator(f"tr[data-number='{number}']")
    assert f"${expected}" in row.text_content()
    return order


def test_buy_baclofen_with_the_test_card_and_see_the_order_in_the_account(page, live_server, localstripe):
    number = buy_to_the_card_page(page, live_server, quantity=3)
    script = page.locator("script[src*='js.stripe.com/v3/']").get_attribute("src")
    assert script == f"{localstripe.url}/js.stripe.com/v3/"  # the test's localstripe, from the context processor
    pay(page, "4242424242424242")
    order = assert_paid_in_account(page, number, 3)
    assert [pi["status"] for pi in localstripe.payment_intents()] == ["succeeded"]
    assert order.payments.get().status == "succeeded"


def test_a_declined_card_shows_stripes_message_and_the_order_stays_payable(page, live_server, localstripe):
    number = buy_to_the_card_page(page, live_server, quantity=2)
    pay(page, "4000000000000341")
    message = page.locator("#payment-message")
    message.wait_for(state="visible")
    assert "declined" in message.text_content().lower()
    assert "still reserved" in message.text_content()
    assert Order.objects.get(number=number).status in PAYABLE
    assert "/pay/" in page.url
    pay(page, "4242424242424242")  # a fresh SetupIntent was fetched for the second try
    assert_paid_in_account(page, number, 2)


def test_a_3d_secure_card_is_paid_after_completing_authentication(page, live_server, localstripe):
    number = buy_to_the_card_page(page, live_server, quantity=1)
    pay(page, "4000002760003184")
    # The stand-in asks once when the card is set up and once for the payment.
    authenticate = page.locator("button", has_text="Complete authentication")
    for _ in range(2):
        authenticate.wait_for(state="visible")
        authenticate.click()
    assert_paid_in_account(page, number, 1)
