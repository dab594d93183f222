"""The shop's receivers (shop.receivers): one approval gates each waiting order once; and end to
end, a pharmacist approves an order's uploaded prescription in the rx admin (headless Chromium), and
the order moves on: the receivers enqueue the gate and fulfilment tasks after the commit, a real
Celery worker runs them, so the order goes awaiting_prescription_review -> ready_to_fulfil ->
fulfilling -> shipped, deterministically. (``private_media``: tests/rx/fixtures.py.)"""

from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from rx.models import Prescription
from shop.models import Order
from shop.state import OrderStatus
from shop.tasks import order_prescription_gate_task
from tests.catalog.factories import DrugRouteFactory
from tests.conftest import wait_for

from .fulfilment_helpers import approve, link, make_order, make_patient, make_product, make_rx, make_user, png_file

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
PASSWORD = "pw-For-tests-1"


@pytest.mark.django_db
def test_one_approval_gates_each_waiting_order_once(monkeypatch, django_capture_on_commit_callbacks):
    pharmacist = make_user(name="pharm_once", pharmacist=True)
    shopper = make_user()
    product = make_product()
    order = make_order(shopper, {product: 90})
    rx = make_rx(make_patient(shopper), product)
    link(order, rx)
    sent = []
    monkeypatch.setattr(order_prescription_gate_task, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        approve(rx, pharmacist)  # received -> in review -> approved, and a decision
    assert rx.status == Prescription.Status.APPROVED
    assert sent == [(order.pk,)]


@pytest.mark.browser
@pytest.mark.celery
@pytest.mark.django_db(transaction=True)
def test_pharmacist_approves_in_the_admin_and_the_waiting_order_ships(
    private_media, live_server, celery_worker, monkeypatch
):
    # Playwright's sync API runs an event loop in this thread; the ORM calls here are plain
    # synchronous ones made between browser steps.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    pharmacist = make_user(name="pharm_browser", pharmacist=True)
    shopper = make_user()
    patient = make_patient(shopper, first_name="Ann")
    product = make_product()
    DrugRouteFactory(drug=product.drug, route="oral", max_daily_dose=Decimal("80"), min_age_years=12)
    order = make_order(shopper, {product: 90})
    # An upload, transcribed (90 mg a day is above the 80 mg maximum: a high finding to override).
    rx = make_rx(
        patient,
        product,
        user=shopper,
        source=Prescription.Source.UPLOAD,
        file=ContentFile(png_file().read(), name="rx.png"),
        file_content_type="image/png",
        dose_amount=Decimal("30"),
    )
    link(order, rx, user=shopper)
    assert rx.findings.filter(severity="high").exists()
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(f"{live_server.url}{reverse('admin:login')}")
            page.fill("#id_username", pharmacist.username)
            page.fill("#id_password", PASSWORD)
            page.click("input[type=submit]")
            page.goto(f"{live_server.url}{reverse('admin:rx_verificationqueueitem_changelist')}")
            review_path = reverse("admin:rx_verificationqueueitem_change", args=[rx.pk])
            page.click(f"a[href='{review_path}']")
            page.wait_for_url(f"**{review_path}")
            assert "Order lines waiting on this prescription" in page.content()
            assert order.number in page.text_content(".rx-hook-panel")
            high = page.query_selector_all("tr.rx-finding-high textarea[name^='override_']")
            assert high, "the review page lists the high findings with a reason box"
            for box in high:
                box.fill("Dose agreed with the prescriber by phone.")
            page.click("button[name='action'][value='approve']")
            page.wait_for_url(f"**{reverse('admin:rx_verificationqueueitem_changelist')}")
        finally:
            browser.close()

    rx.refresh_from_db()
    assert rx.status == Prescription.Status.APPROVED
    wait_for(
        lambda: Order.objects.get(pk=order.pk).status == OrderStatus.SHIPPED,
        timeout=20,
        message="the approved order to be gated, fulfilled and shipped",
    )
    moves = list(Order.objects.get(pk=order.pk).events.values_list("to_status", flat=True))
    assert moves[-4:] == ["awaiting_prescription_review", "ready_to_fulfil", "fulfilling", "shipped"]
