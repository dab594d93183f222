"""The product page in headless Chromium: quantity selector, live total, monograph sections."""

from io import StringIO

import pytest
from django.core.management import call_command

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


@pytest.fixture
def seeded(transactional_db):
    call_command("load_seed_catalogue", stdout=StringIO())


@pytest.fixture
def page():
    """A Chromium page. Playwright's sync API runs an event loop in this thread, so every
    database call (seeding, the flush at teardown) must happen outside this fixture's lifetime:
    request ``seeded`` and ``live_server`` before ``page``."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            yield browser.new_page()
        finally:
            browser.close()


def test_live_total_follows_the_tiers_and_the_buttons(seeded, live_server, page):
    page.goto(f"{live_server.url}/products/baclofen-10-mg-tablet/")

    def total_for(quantity):
        page.fill("#quantity", quantity)
        return page.text_content("#total-price"), page.text_content("#unit-price-note")

    assert total_for("1") == ("$2.48", "($2.48 / tablet)")
    assert total_for("29") == ("$71.92", "($2.48 / tablet)")
    assert page.text_content("#qty-help") == "From 30 tablets: $2.31 / tablet."
    assert total_for("89") == ("$205.59", "($2.31 / tablet)")
    assert total_for("90") == ("$15.30", "($0.17 / tablet)")
    assert total_for("1000") == ("$170.00", "($0.17 / tablet)")
    assert page.get_attribute("tr[data-min='90']", "class") == "is-current"
    assert total_for("1001")[0] == "—"
    assert page.text_content("#qty-help") == "Enter a whole number from 1 to 1,000."
    total_for("29")
    page.click("button[aria-label='Increase quantity']")
    assert (page.input_value("#quantity"), page.text_content("#total-price")) == ("30", "$69.30")
    page.click("button[aria-label='Decrease quantity']")
    page.click("button[aria-label='Decrease quantity']")
    assert (page.input_value("#quantity"), page.text_content("#total-price")) == ("28", "$69.44")
    total_for("1")
    page.click("button[aria-label='Decrease quantity']")
    assert page.input_value("#quantity") == "1"  # never below one

    # One browser start for the whole file: the monograph's expand/collapse controls too.
    page.goto(f"{live_server.url}/products/baclofen-40-mg-20-ml-intrathecal-injection/")
    assert page.locator("details:has(h3:text-is('Adult Dosing'))").get_attribute("open") is None
    page.click("nav.toc >> text=Expand all sections")
    assert page.locator(".monograph details:not([open])").count() == 0
    page.click("nav.toc >> text=Collapse all")
    assert page.locator(".monograph details[open]").count() == 0
    page.goto(f"{live_server.url}/products/baclofen-10-mg-tablet/#group-3")  # a linked section opens
    assert page.locator("#group-3 details").get_attribute("open") == ""
