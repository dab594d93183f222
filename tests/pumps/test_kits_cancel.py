"""A clinic cancels a refill kit not yet dispatched: invoice voided, stock released, alerts closed, no re-order."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import StockReservation
from pumps.models import KitAlert, KitOrder
from shop.models import OrderEvent, Refund
from pumps.services import kits
from shop.services import refunds
from shop.state import OrderStatus
from tests.factories import UserFactory
from tests.pumps.kit_fixtures import DUE, SHIP, clinic_with_staff, due_pump, kit_product, pharmacist

REASON = "Appointment cancelled: the patient is in hospital elsewhere."


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def cancel_url(kit):
    return reverse("pumps-api:clinic-kit-order-cancel", kwargs={"clinic_id": kit.clinic_id, "pk": kit.pk})


@pytest.fixture
def setup(db, monkeypatch):
    def no_stripe(**kwargs):
        raise AssertionError("an invoiced kit order must not be refunded through Stripe")

    monkeypatch.setattr(refunds, "refund_send", no_stripe)
    kit_product()
    clinic, staff = clinic_with_staff(name="Clinic A")
    other_clinic, other_staff = clinic_with_staff(name="Clinic B")
    pump = due_pump(clinic)
    kit = kits.kit_order_create(pump=pump, user=staff, shipping=SHIP, now=DUE)
    alert, _ = kits.kit_alert_raise(pump=pump, kit_order=kit, reason=KitAlert.Reason.NO_APPROVAL, message="x", now=DUE)
    return type("Setup", (), {"clinic": clinic, "staff": staff, "other_staff": other_staff, "pump": pump,
                              "kit": kit, "alert": alert})


def assert_nothing_cancelled(setup):
    setup.kit.refresh_from_db()
    setup.alert.refresh_from_db()
    assert setup.kit.status == KitOrder.Status.SCHEDULED
    assert setup.kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert StockReservation.objects.get(reference=setup.kit.order.stock_reference).status == "active"
    assert setup.alert.resolved_at is None


def test_clinic_staff_cancel_a_kit_stock_released_invoice_voided_alerts_resolved(setup):
    response = client_for(setup.staff).post(cancel_url(setup.kit), {"reason": REASON}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["order_status"] == OrderStatus.CANCELLED
    kit = KitOrder.objects.select_related("order").get(pk=setup.kit.pk)
    assert kit.status == KitOrder.Status.CANCELLED and REASON in kit.last_error
    assert kit.order.status == OrderStatus.CANCELLED
    assert StockReservation.objects.get(reference=kit.order.stock_reference).status == "released"
    event = OrderEvent.objects.get(order=kit.order, to_status=OrderStatus.CANCELLED)
    assert event.actor == setup.staff and REASON in event.reason and "Invoice voided" in event.reason
    assert not Refund.objects.exists()
    setup.alert.refresh_from_db()
    assert setup.alert.resolved_at is not None and setup.alert.resolved_by == setup.staff
    assert REASON in setup.alert.resolution
    assert not KitAlert.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize("who", ["other_clinic_staff", "shopper", "pharmacist", "admin"])
def test_anyone_but_the_clinics_staff_gets_404_and_nothing_changes(setup, who):
    user = {"other_clinic_staff": setup.other_staff, "shopper": UserFactory(), "pharmacist": pharmacist(),
            "admin": UserFactory(is_staff=True, is_superuser=True)}[who]

    response = client_for(user).post(cancel_url(setup.kit), {"reason": REASON}, format="json")

    assert response.status_code == 404
    assert_nothing_cancelled(setup)


def test_the_service_refuses_anyone_but_the_clinics_staff_as_not_found(setup):
    with pytest.raises(kits.NotFound):
        kits.kit_order_cancel(kit_order_id=setup.kit.pk, user=setup.other_staff, reason=REASON)
    assert_nothing_cancelled(setup)


def test_a_kit_of_another_clinic_is_404_even_for_staff_of_both(setup):
    other_kit_url = reverse("pumps-api:clinic-kit-order-cancel",
                            kwargs={"clinic_id": setup.clinic.pk + 10_000, "pk": setup.kit.pk})
    assert client_for(setup.staff).post(other_kit_url, {"reason": REASON}, format="json").status_code == 404
    assert_nothing_cancelled(setup)


def test_anonymous_users_cannot_cancel(setup):
    response = client_for(None).post(cancel_url(setup.kit), {"reason": REASON}, format="json")

    assert response.status_code in (401, 403)
    assert_nothing_cancelled(setup)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_missing_reason_is_a_400_naming_it_and_nothing_changes(setup, body):
    response = client_for(setup.staff).post(cancel_url(setup.kit), body, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert_nothing_cancelled(setup)


def test_a_dispatched_kit_cannot_be_cancelled_409_with_its_status(setup):
    kits.kit_order_mark_shipped(order_id=setup.kit.order_id)

    response = client_for(setup.staff).post(cancel_url(setup.kit), {"reason": REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "kit_order_not_cancellable"
    assert response.json()["status"] == KitOrder.Status.DISPATCHED
    setup.kit.refresh_from_db()
    assert setup.kit.status == KitOrder.Status.DISPATCHED
    assert setup.kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def test_cancelling_twice_is_a_409_with_status_cancelled(setup):
    client = client_for(setup.staff)
    assert client.post(cancel_url(setup.kit), {"reason": REASON}, format="json").status_code == 200

    response = client.post(cancel_url(setup.kit), {"reason": REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["status"] == KitOrder.Status.CANCELLED
    assert OrderEvent.objects.filter(order_id=setup.kit.order_id, to_status=OrderStatus.CANCELLED).count() == 1


def test_the_scan_does_not_reorder_a_cancelled_cycle_but_alerts_once_and_the_standing_order_stays(setup):
    standing = kits.standing_order_set(pump=setup.pump, user=setup.staff, shipping=SHIP)
    kits.kit_order_cancel(kit_order_id=setup.kit.pk, user=setup.staff, reason=REASON)

    result = kits.kits_scan(now=DUE)
    again_result = kits.kits_scan(now=DUE)

    assert result.created == [] and result.alerted == [setup.pump.pk]
    assert again_result.created == [] and again_result.alerted == []
    assert list(KitOrder.objects.values_list("pk", "status")) == [(setup.kit.pk, KitOrder.Status.CANCELLED)]
    # Never silent: one open no-order alert asks a person to confirm the refill is covered.
    open_alert = KitAlert.objects.get(resolved_at__isnull=True)
    assert open_alert.reason == KitAlert.Reason.NO_ORDER and "cancelled" in open_alert.message
    standing.refresh_from_db()
    assert standing.active
    # The clinic may still order this cycle's kit by hand.
    again = kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)
    assert again.pk != setup.kit.pk and again.status == KitOrder.Status.SCHEDULED


def test_clinic_staff_cancel_a_kit_from_the_page(client, setup):
    client.force_login(setup.staff)
    url = reverse("pumps:clinic-kits", kwargs={"clinic_id": setup.clinic.pk})
    listing = client.get(url).content.decode()
    assert 'name="action" value="cancel"' in listing and f'name="kit_order" value="{setup.kit.pk}"' in listing

    response = client.post(url, {"action": "cancel", "kit_order": setup.kit.pk, "reason": REASON})

    assert response.status_code == 302
    setup.kit.refresh_from_db()
    assert setup.kit.status == KitOrder.Status.CANCELLED


def test_a_page_cancel_without_a_reason_shows_the_error_and_changes_nothing(client, setup):
    client.force_login(setup.staff)
    url = reverse("pumps:clinic-kits", kwargs={"clinic_id": setup.clinic.pk})

    response = client.post(url, {"action": "cancel", "kit_order": setup.kit.pk, "reason": ""})

    assert response.status_code == 400
    assert "reason" in response.content.decode()
    assert_nothing_cancelled(setup)
