"""/api/docs/ in headless Chromium under the production Content-Security-Policy (core.headers):
Swagger UI, loaded from drf-spectacular-sidecar, renders the API with no CSP violation."""

import pytest
from django.test import override_settings

from tests.shop.views.test_browser_checkout import CHROMIUM_ARGS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@override_settings(STRIPE_API_BASE="")
def test_swagger_ui_renders_under_the_policy(live_server, monkeypatch):
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - the browser tests' optional import

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # playwright's loop thread (see test_browser_checkout)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            problems = []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            requests = []
            page.on("request", lambda r: requests.append(r.url))
            page.goto(f"{live_server.url}/api/docs/")
            page.wait_for_selector(".opblock", timeout=20_000)  # the operations, from /api/schema/
            assert page.locator(".opblock").count() > 10
        finally:
            browser.close()
    assert not [p for p in problems if "Content Security Policy" in p or "Refused" in p], problems
    assert all(url.startswith(live_server.url) for url in requests), requests
