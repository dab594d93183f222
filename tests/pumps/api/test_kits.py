"""The refill-kit API (pumps.api.views.kits): a clinic's staff order and cancel its kits, everyone else is
told they do not exist; pharmacy staff list (paginated) and resolve the kit alerts."""

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import StockReservation
from core.api.pagination import PageNumberPagination
from pumps import access
from pumps.models import KitAlert, KitOrder
from pumps.services.kits.dispatch import kit_order_mark_shipped
from rx.access import patients_owned_by
from rx.models import ClinicMembership
from shop.models import Order, OrderEvent, Refund
from shop.state import OrderStatus
from tests.core.factories import UserFactory
from tests.pumps.fixtures import (
    CANCEL_REASON,
    SHIPPING,
    assert_nothing_cancelled,
    client_for,
    clinic_with_staff,
    due_pump,
    kit_product,
    pharmacist,
)
from tests.rx.factories import ClinicMemberFactory

ALERTS_URL = reverse("pumps-api:kit-alerts")


def url(clinic):
    return reverse("pumps-api:clinic-kit-orders", kwargs={"clinic_id": clinic.pk})


def test_clinic_staff_order_a_kit_invoiced_to_the_clinic_with_stock_held_until_dispatch(kit_world):
    response = client_for(kit_world.staff).post(
        url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    kit = KitOrder.objects.get(pk=body["id"])
    assert (kit.pump_id, kit.refill_id, kit.patient_id) == (
        kit_world.pump.pk,
        kit_world.pump.current_refill_id,
        kit_world.pump.patient_id,
    )
    assert kit.appointment is not None and kit.source == KitOrder.Source.CLINIC
    assert (kit.ship_by, kit.expected_delivery) == (kit_world.pump.ship_by, kit_world.pump.expected_delivery)
    order = kit.order
    assert order.lines.get().product == kit_world.product
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID, reason__icontains="invoice").exists()
    hold = StockReservation.objects.get(reference=order.stock_reference)
    assert (hold.status, hold.quantity, hold.expires_at) == (StockReservation.Status.ACTIVE, 1, None)
    assert body["order_status"] == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert [k["id"] for k in client_for(kit_world.staff).get(url(kit_world.clinic)).json()] == [kit.pk]


@pytest.mark.parametrize("who", ["other_clinic_staff", "shopper", "pharmacist", "admin"])
def test_only_the_clinics_own_staff_see_or_order_its_kits(kit_world, who):
    client_for(kit_world.staff).post(url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json")
    user = {
        "other_clinic_staff": kit_world.other_staff,
        "shopper": UserFactory(),
        "pharmacist": pharmacist(),
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }[who]

    assert client_for(user).get(url(kit_world.clinic)).status_code == 404
    response = client_for(user).post(url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 404
    assert KitOrder.objects.count() == 1


def test_anonymous_users_cannot_list_or_order_kits(kit_world):
    assert client_for(None).get(url(kit_world.clinic)).status_code in (401, 403)
    assert client_for(None).post(
        url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json"
    ).status_code in (401, 403)
    assert not KitOrder.objects.exists()


def test_a_kit_for_another_clinics_pump_is_refused_naming_the_pump(kit_world):
    foreign = due_pump(kit_world.other_clinic)
    ClinicMemberFactory(clinic=kit_world.other_clinic, user=kit_world.staff)  # staff of both: still per clinic

    response = client_for(kit_world.staff).post(url(kit_world.clinic), {"pump": foreign.pk, **SHIPPING}, format="json")

    assert response.status_code == 400
    assert "pump" in response.json()["errors"]
    assert not KitOrder.objects.exists() and not Order.objects.exists()


def test_a_missing_shipping_field_is_refused_naming_it_and_nothing_is_saved(kit_world):
    payload = {"pump": kit_world.pump.pk, **SHIPPING}
    del payload["shipping_city"]

    response = client_for(kit_world.staff).post(url(kit_world.clinic), payload, format="json")

    assert response.status_code == 400
    assert "shipping_city" in response.json()["errors"]
    assert not KitOrder.objects.exists() and not Order.objects.exists()


def test_a_second_kit_for_the_same_refill_cycle_is_refused(kit_world):
    client = client_for(kit_world.staff)
    assert client.post(url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json").status_code == 201

    response = client.post(url(kit_world.clinic), {"pump": kit_world.pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "kit_order_exists"
    assert KitOrder.objects.count() == 1 and Order.objects.count() == 1


def test_a_clinic_order_without_stock_is_refused_and_nothing_is_saved(db):
    kit_product(stock=0)
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)

    response = client_for(staff).post(url(clinic), {"pump": pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "insufficient_stock"
    assert not KitOrder.objects.exists() and not Order.objects.exists()
    assert not StockReservation.objects.exists()


def test_a_pump_at_a_concentration_no_kit_is_sold_at_is_refused_naming_the_product(db):
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic, conc="500", dose="125")

    response = client_for(staff).post(url(clinic), {"pump": pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 400
    assert "product" in response.json()["errors"]
    assert not KitOrder.objects.exists()


def cancel_url(kit):
    return reverse("pumps-api:clinic-kit-order-cancel", kwargs={"clinic_id": kit.clinic_id, "pk": kit.pk})


def test_clinic_staff_cancel_a_kit_stock_released_invoice_voided_alerts_resolved(ordered_kit):
    response = client_for(ordered_kit.staff).post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "cancelled"
    assert response.json()["order_status"] == OrderStatus.CANCELLED
    kit = KitOrder.objects.select_related("order").get(pk=ordered_kit.kit.pk)
    assert kit.status == KitOrder.Status.CANCELLED and CANCEL_REASON in kit.last_error
    assert kit.order.status == OrderStatus.CANCELLED
    assert StockReservation.objects.get(reference=kit.order.stock_reference).status == "released"
    event = OrderEvent.objects.get(order=kit.order, to_status=OrderStatus.CANCELLED)
    assert event.actor == ordered_kit.staff and CANCEL_REASON in event.reason and "Invoice voided" in event.reason
    assert not Refund.objects.exists()
    ordered_kit.alert.refresh_from_db()
    assert ordered_kit.alert.resolved_at is not None and ordered_kit.alert.resolved_by == ordered_kit.staff
    assert CANCEL_REASON in ordered_kit.alert.resolution
    assert not KitAlert.objects.filter(resolved_at__isnull=True).exists()


@pytest.mark.parametrize("who", ["other_clinic_staff", "shopper", "pharmacist", "admin"])
def test_anyone_but_the_clinics_staff_gets_404_and_nothing_changes(ordered_kit, who):
    user = {
        "other_clinic_staff": ordered_kit.other_staff,
        "shopper": UserFactory(),
        "pharmacist": pharmacist(),
        "admin": UserFactory(is_staff=True, is_superuser=True),
    }[who]

    response = client_for(user).post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json")

    assert response.status_code == 404
    assert_nothing_cancelled(ordered_kit)


def test_a_kit_of_another_clinic_is_404_even_for_staff_of_both(ordered_kit):
    other_kit_url = reverse(
        "pumps-api:clinic-kit-order-cancel",
        kwargs={"clinic_id": ordered_kit.clinic.pk + 10_000, "pk": ordered_kit.kit.pk},
    )
    response = client_for(ordered_kit.staff).post(other_kit_url, {"reason": CANCEL_REASON}, format="json")
    assert response.status_code == 404
    assert_nothing_cancelled(ordered_kit)


def test_anonymous_users_cannot_cancel(ordered_kit):
    response = client_for(None).post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json")

    assert response.status_code in (401, 403)
    assert_nothing_cancelled(ordered_kit)


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}])
def test_a_missing_reason_is_a_400_naming_it_and_nothing_changes(ordered_kit, body):
    response = client_for(ordered_kit.staff).post(cancel_url(ordered_kit.kit), body, format="json")

    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert_nothing_cancelled(ordered_kit)


def test_a_dispatched_kit_cannot_be_cancelled_409_with_its_status(ordered_kit):
    kit_order_mark_shipped(order_id=ordered_kit.kit.order_id)

    response = client_for(ordered_kit.staff).post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "kit_order_not_cancellable"
    assert response.json()["status"] == KitOrder.Status.DISPATCHED
    ordered_kit.kit.refresh_from_db()
    assert ordered_kit.kit.status == KitOrder.Status.DISPATCHED
    assert ordered_kit.kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def test_cancelling_twice_is_a_409_with_status_cancelled(ordered_kit):
    client = client_for(ordered_kit.staff)
    assert client.post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json").status_code == 200

    response = client.post(cancel_url(ordered_kit.kit), {"reason": CANCEL_REASON}, format="json")

    assert response.status_code == 409
    assert response.json()["status"] == KitOrder.Status.CANCELLED
    assert OrderEvent.objects.filter(order_id=ordered_kit.kit.order_id, to_status=OrderStatus.CANCELLED).count() == 1


@pytest.fixture
def alerts(db):
    """Three open alerts on one pump (one per reason), levels 2, 1, 0, and a resolved one."""
    pump = due_pump()
    clinic = pump.patient.clinic
    open_ = [
        KitAlert.objects.create(pump=pump, clinic=clinic, reason=reason, level=level)
        for reason, level in (("no_order", 0), ("late", 2), ("cannot_arrive", 1))
    ]
    resolved = KitAlert.objects.create(pump=pump, clinic=clinic, reason="no_stock", level=5)
    KitAlert.objects.filter(pk=resolved.pk).update(resolved_at=resolved.opened_at, resolution="done")
    return [open_[1], open_[2], open_[0]]


def test_the_kit_alert_list_is_paginated_highest_level_first(alerts, monkeypatch):
    monkeypatch.setattr(PageNumberPagination, "page_size", 2)
    client = client_for(pharmacist())
    first = client.get(ALERTS_URL)
    assert first.status_code == 200, first.content
    body = first.json()
    assert body["count"] == 3
    assert [a["id"] for a in body["results"]] == [alerts[0].pk, alerts[1].pk]
    assert body["next"] and body["previous"] is None
    second = client.get(ALERTS_URL, {"page": 2}).json()
    assert [a["id"] for a in second["results"]] == [alerts[2].pk]
    assert second["next"] is None


@pytest.mark.parametrize("page", ["0", "-1", "abc", "1.5"])
def test_a_malformed_page_is_a_400_naming_page(alerts, page):
    response = client_for(pharmacist()).get(ALERTS_URL, {"page": page})
    assert response.status_code == 400
    assert "page" in response.json()["errors"]


def test_a_page_past_the_end_is_a_404(alerts):
    assert client_for(pharmacist()).get(ALERTS_URL, {"page": 9}).status_code == 404


def test_the_kit_alert_list_has_no_ordering_parameter_so_ordering_is_ignored(alerts):
    response = client_for(pharmacist()).get(ALERTS_URL, {"ordering": "bogus"})
    assert response.status_code == 200
    assert [a["id"] for a in response.json()["results"]] == [a.pk for a in alerts]


def test_anyone_but_pharmacy_staff_gets_404(alerts):
    response = client_for(UserFactory()).get(ALERTS_URL)
    assert response.status_code == 404
    assert "results" not in response.json()


def test_pharmacy_staff_resolve_an_alert_through_the_api_and_others_get_404(open_alert):
    url = reverse("pumps-api:kit-alert-resolve", kwargs={"pk": open_alert.pk})
    outsider = client_for(clinic_with_staff()[1])
    assert outsider.post(url, {"resolution": "x"}, format="json").status_code == 404
    staff = client_for(pharmacist())
    assert staff.post(url, {}, format="json").status_code == 400

    response = staff.post(url, {"resolution": "Called the clinic; kit couriered."}, format="json")

    assert response.status_code == 200
    open_alert.refresh_from_db()
    assert open_alert.resolved_at is not None and open_alert.resolution == "Called the clinic; kit couriered."


def test_a_user_removed_from_the_clinic_loses_its_kit_orders_at_once(ordered_kit):
    kit, staff = ordered_kit.kit, ordered_kit.staff
    client = client_for(staff)
    page = Client()
    page.force_login(staff)
    kits_api = reverse("pumps-api:clinic-kit-orders", args=[ordered_kit.clinic.pk])
    kits_page = reverse("pumps:clinic-kits", args=[ordered_kit.clinic.pk])
    order_api = reverse("shop-api:order-detail", args=[kit.order.number])
    order_page = reverse("shop:order-detail", args=[kit.order.number])
    assert client.get(kits_api).status_code == 200 and page.get(kits_page).status_code == 200
    assert client.get(order_api).status_code == 200 and page.get(order_page).status_code == 200

    ClinicMembership.objects.filter(user=staff, clinic=ordered_kit.clinic).delete()

    assert client.get(order_api).status_code == 404  # the kit's shop order too, though the user placed it
    assert page.get(order_page).status_code == 404
    assert client.get(reverse("shop-api:order-prescriptions", args=[kit.order.number])).status_code == 404

    assert client.get(kits_api).status_code == 404
    assert page.get(kits_page).status_code == 404
    cancel = reverse("pumps-api:clinic-kit-order-cancel", args=[ordered_kit.clinic.pk, kit.pk])
    assert client.post(cancel, {"reason": "gone"}, format="json").status_code == 404
    assert not access.can_manage_kit_order(staff, kit)
    assert not patients_owned_by(staff).filter(pk=kit.patient_id).exists()
    assert_nothing_cancelled(ordered_kit)
