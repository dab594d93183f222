"""Refill kits: clinic ordering (API), prescription gating, standing orders and the scan."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import StockReservation
from catalog.services.stock import stock_receive
from rx.models import Prescription
from pumps.models import KitAlert, KitOrder
from shop.models import Order, OrderEvent
from pumps.services import kits
from shop.state import OrderStatus
from tests.factories import ClinicMemberFactory, UserFactory
from tests.pumps.kit_fixtures import (
    BEFORE_DUE,
    DUE,
    SHIP,
    SHIPPING,
    clinic_with_staff,
    due_pump,
    intrathecal_rx,
    kit_product,
    make_pump,
    ny,
    pharmacist,
)


def client_for(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(clinic):
    return reverse("pumps-api:clinic-kit-orders", kwargs={"clinic_id": clinic.pk})


@pytest.fixture
def setup(db):
    product = kit_product()
    clinic, staff = clinic_with_staff(name="Clinic A", email="desk@clinic-a.example")
    other_clinic, other_staff = clinic_with_staff(name="Clinic B")
    pump = due_pump(clinic)
    return type("Setup", (), {"product": product, "clinic": clinic, "staff": staff, "other_clinic": other_clinic,
                              "other_staff": other_staff, "pump": pump})


# --- clinic ordering through the API ------------------------------------------------------

def test_clinic_staff_order_a_kit_invoiced_to_the_clinic_with_stock_held_until_dispatch(setup):
    response = client_for(setup.staff).post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    kit = KitOrder.objects.get(pk=body["id"])
    assert (kit.pump_id, kit.refill_id, kit.patient_id) == (setup.pump.pk, setup.pump.current_refill_id,
                                                            setup.pump.patient_id)
    assert kit.appointment is not None and kit.source == KitOrder.Source.CLINIC
    assert (kit.ship_by, kit.expected_delivery) == (setup.pump.ship_by, setup.pump.expected_delivery)
    order = kit.order
    assert order.lines.get().product == setup.product
    assert OrderEvent.objects.filter(order=order, to_status=OrderStatus.PAID, reason__icontains="invoice").exists()
    hold = StockReservation.objects.get(reference=order.stock_reference)
    assert (hold.status, hold.quantity, hold.expires_at) == (StockReservation.Status.ACTIVE, 1, None)
    assert body["order_status"] == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert [k["id"] for k in client_for(setup.staff).get(url(setup.clinic)).json()] == [kit.pk]


@pytest.mark.parametrize("who", ["other_clinic_staff", "shopper", "pharmacist", "admin"])
def test_only_the_clinics_own_staff_see_or_order_its_kits(setup, who):
    client_for(setup.staff).post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING}, format="json")
    user = {"other_clinic_staff": setup.other_staff, "shopper": UserFactory(), "pharmacist": pharmacist(),
            "admin": UserFactory(is_staff=True, is_superuser=True)}[who]

    assert client_for(user).get(url(setup.clinic)).status_code == 404
    response = client_for(user).post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING}, format="json")

    assert response.status_code == 404
    assert KitOrder.objects.count() == 1


def test_anonymous_users_cannot_list_or_order_kits(setup):
    assert client_for(None).get(url(setup.clinic)).status_code in (401, 403)
    assert client_for(None).post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING},
                                 format="json").status_code in (401, 403)
    assert not KitOrder.objects.exists()


def test_a_kit_for_another_clinics_pump_is_refused_naming_the_pump(setup):
    foreign = due_pump(setup.other_clinic)
    ClinicMemberFactory(clinic=setup.other_clinic, user=setup.staff)  # staff of both: still per clinic

    response = client_for(setup.staff).post(url(setup.clinic), {"pump": foreign.pk, **SHIPPING}, format="json")

    assert response.status_code == 400
    assert "pump" in response.json()["errors"]
    assert not KitOrder.objects.exists() and not Order.objects.exists()


def test_a_missing_shipping_field_is_refused_naming_it_and_nothing_is_saved(setup):
    payload = {"pump": setup.pump.pk, **SHIPPING}
    del payload["shipping_city"]

    response = client_for(setup.staff).post(url(setup.clinic), payload, format="json")

    assert response.status_code == 400
    assert "shipping_city" in response.json()["errors"]
    assert not KitOrder.objects.exists() and not Order.objects.exists()


def test_a_second_kit_for_the_same_refill_cycle_is_refused(setup):
    client = client_for(setup.staff)
    assert client.post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING}, format="json").status_code == 201

    response = client.post(url(setup.clinic), {"pump": setup.pump.pk, **SHIPPING}, format="json")

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


# --- prescription gating ------------------------------------------------------------------

def test_a_kit_order_waits_for_an_approved_intrathecal_prescription_which_goes_first_in_the_queue(setup):
    rx = intrathecal_rx(setup.pump.patient, setup.product, routine=True)

    kit = kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    rx.refresh_from_db()
    assert rx.priority == Prescription.Priority.URGENT
    assert "kit" in rx.priority_reason.lower()


def test_a_kit_order_covered_by_an_approved_prescription_is_ready_to_fulfil(setup):
    intrathecal_rx(setup.pump.patient, setup.product, approve_by=pharmacist())

    kit = kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL
    assert OrderEvent.objects.filter(order=kit.order, to_status=OrderStatus.AWAITING_PRESCRIPTION_REVIEW).exists()


def test_approving_the_prescription_later_moves_the_waiting_kit_order_on(setup):
    rx = intrathecal_rx(setup.pump.patient, setup.product)
    kit = kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)
    from rx.services.verification import prescription_approve

    rx.refresh_from_db()
    prescription_approve(prescription_id=rx.pk, pharmacist=pharmacist(),
                         overrides={f.code: "Checked." for f in rx.findings.all()})
    assert kits.kits_prescription_changed(prescription_id=rx.pk) == [kit.pk]

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL


def test_a_prescription_of_another_patient_does_not_cover_the_kit(setup):
    other = due_pump(setup.clinic)
    intrathecal_rx(other.patient, setup.product, approve_by=pharmacist())

    kit = kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW


# --- standing orders and the scan ---------------------------------------------------------

def test_the_scan_orders_the_kit_of_a_standing_order_once_however_often_it_runs(setup):
    kits.standing_order_set(pump=setup.pump, user=setup.staff, shipping=SHIP)

    first = kits.kits_scan(now=DUE)
    second = kits.kits_scan(now=DUE)

    kit = KitOrder.objects.get()
    assert first.created == [kit.pk] and second.created == []
    assert kit.source == KitOrder.Source.STANDING and kit.order is not None
    assert not KitAlert.objects.exists()


def test_the_scan_leaves_pumps_whose_ship_by_is_beyond_the_lead_time(setup):
    kits.standing_order_set(pump=setup.pump, user=setup.staff, shipping=SHIP)

    assert kits.kits_scan(now=BEFORE_DUE).created == []
    assert not KitOrder.objects.exists() and not KitAlert.objects.exists()


def test_a_due_pump_without_kit_or_standing_order_raises_one_alert_not_silence(
        setup, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        kits.kits_scan(now=DUE)
        kits.kits_scan(now=DUE)

    alert = KitAlert.objects.get()
    assert (alert.pump_id, alert.kit_order_id, alert.reason, alert.level) == (setup.pump.pk, None, "no_order", 0)
    assert len(mailoutbox) == 1
    assert "desk@clinic-a.example" in mailoutbox[0].to and "staff@localhost" in mailoutbox[0].to

    kits.kit_order_create(pump=setup.pump, user=setup.staff, shipping=SHIP, now=DUE)
    alert.refresh_from_db()
    assert alert.resolved_at is not None


def test_a_standing_order_without_stock_keeps_the_kit_order_and_alerts_no_stock(
        db, mailoutbox, django_capture_on_commit_callbacks):
    product = kit_product(stock=0)
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kits.standing_order_set(pump=pump, user=staff, shipping=SHIP)

    with django_capture_on_commit_callbacks(execute=True):
        kits.kits_scan(now=DUE)

    kit = KitOrder.objects.get()
    assert kit.order is None and not Order.objects.exists()
    alert = KitAlert.objects.get(kit_order=kit)
    assert alert.reason == "no_stock"
    assert len(mailoutbox) == 1

    stock_receive(product=product, lot_number="NEW-1", expiry_date=timezone.localdate() + timedelta(days=300),
                  quantity=5)
    kits.kit_order_dispatch(kit_order_id=kit.pk, now=DUE)

    kit.refresh_from_db()
    alert.refresh_from_db()
    assert kit.order is not None and alert.resolved_at is not None


def test_the_scan_keeps_the_kit_orders_dates_in_step_with_the_pump(setup):
    from pumps.services import pumps as pump_services

    kits.standing_order_set(pump=setup.pump, user=setup.staff, shipping=SHIP)
    kits.kits_scan(now=DUE)
    kit = KitOrder.objects.get()
    pump_services.pump_appointment_set(pump=setup.pump, scheduled_at=ny(2025, 3, 10, 9, 0), now=DUE)
    setup.pump.refresh_from_db()
    assert setup.pump.ship_by != kit.ship_by

    assert kits.kits_scan(pump_ids=[setup.pump.pk], now=DUE).synced == [kit.pk]

    kit.refresh_from_db()
    assert (kit.ship_by, kit.expected_delivery) == (setup.pump.ship_by, setup.pump.expected_delivery)


def test_the_scans_queries_do_not_grow_with_pumps_that_are_not_due(setup):
    kits.standing_order_set(pump=setup.pump, user=setup.staff, shipping=SHIP)
    kits.kits_scan(now=DUE)  # the kit exists: later scans only read

    with CaptureQueriesContext(connection) as few:
        kits.kits_scan(now=DUE)
    for _ in range(15):
        make_pump(setup.clinic, fill_at=ny(2025, 2, 25, 10, 0), now=ny(2025, 2, 25, 10, 0))
    with CaptureQueriesContext(connection) as many:
        kits.kits_scan(now=DUE)

    assert len(many) == len(few)
    assert KitOrder.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_scans_create_one_kit_order():
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kits.standing_order_set(pump=pump, user=staff, shipping=SHIP)
    barrier = threading.Barrier(2)
    errors = []

    def scan():
        try:
            barrier.wait(timeout=5)
            kits.kits_scan(now=DUE)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=scan) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)

    assert errors == []
    assert KitOrder.objects.filter(pump=pump).count() == 1
    assert Order.objects.count() == 1
    assert StockReservation.objects.filter(status=StockReservation.Status.ACTIVE).count() == 1
