"""Fixtures shared by the pumps tests (helpers are in ``tests.pumps.fixtures``)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pumps.models import KitAlert
from pumps.services.kits.alerts import kit_alert_raise
from pumps.services.kits.orders import kit_order_create
from shop.services import refunds
from shop.services.fulfilment import order_fulfil
from shop.state import OrderStatus
from tests.pumps.fixtures import (
    DUE,
    SHIP,
    clinic_with_staff,
    due_pump,
    intrathecal_rx,
    kit_product,
    make_pump,
    ny,
    on_day,
    pharmacist,
)


@pytest.fixture
def clinic_pumps(db):
    """A clinic with two pumps filled 20 days ago: one with an appointment after the alarm, one on time."""
    clinic, staff = clinic_with_staff(name="Alpha Clinic")
    other_clinic, other_staff = clinic_with_staff(name="Beta Clinic")
    now = timezone.now()
    fill = now - timedelta(days=20)
    late = make_pump(clinic, fill_at=fill, appointment_at=fill + timedelta(days=75), now=now)  # after the alarm
    fine = make_pump(clinic, fill_at=fill, appointment_at=fill + timedelta(days=66), now=now)
    return {"clinic": clinic, "staff": staff, "other_staff": other_staff, "late": late, "fine": fine}


@pytest.fixture
def kit_world(db):
    """A kit product in stock; Clinic A (with an e-mail address) and its due pump; Clinic B and its staff."""
    product = kit_product()
    clinic, staff = clinic_with_staff(name="Clinic A", email="desk@clinic-a.example")
    other_clinic, other_staff = clinic_with_staff(name="Clinic B")
    pump = due_pump(clinic)
    return type(
        "KitWorld",
        (),
        {
            "product": product,
            "clinic": clinic,
            "staff": staff,
            "other_clinic": other_clinic,
            "other_staff": other_staff,
            "pump": pump,
        },
    )


@pytest.fixture
def ordered_kit(db, monkeypatch):
    """Clinic A's kit order waiting for a prescription, with an open no-approval alert (Stripe must not be called)."""

    def no_stripe(**kwargs):
        raise AssertionError("an invoiced kit order must not be refunded through Stripe")

    monkeypatch.setattr(refunds, "refund_send", no_stripe)
    kit_product()
    clinic, staff = clinic_with_staff(name="Clinic A")
    other_clinic, other_staff = clinic_with_staff(name="Clinic B")
    pump = due_pump(clinic)
    kit = kit_order_create(pump=pump, user=staff, shipping=SHIP, now=DUE)
    alert, _ = kit_alert_raise(pump=pump, kit_order=kit, reason=KitAlert.Reason.NO_APPROVAL, message="x", now=DUE)
    return type(
        "OrderedKit",
        (),
        {"clinic": clinic, "staff": staff, "other_staff": other_staff, "pump": pump, "kit": kit, "alert": alert},
    )


@pytest.fixture
def covered(db):
    """A clinic's due pump with a kit order covered by an approved prescription (ready to fulfil)."""
    product = kit_product()
    clinic, staff = clinic_with_staff(email="desk@clinic.example")
    pump = due_pump(clinic)
    intrathecal_rx(pump.patient, product, approve_by=pharmacist())
    kit = kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=10)))
    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL
    return type("Covered", (), {"product": product, "clinic": clinic, "staff": staff, "pump": pump, "kit": kit})


class FulfilmentSpy:
    """The dispatch's ``fulfil=``: records each order handed over, then fulfils it for real."""

    def __init__(self):
        self.calls = []

    def __call__(self, *, order_id):
        self.calls.append(order_id)
        return order_fulfil(order_id=order_id)


@pytest.fixture
def fulfilment():
    return FulfilmentSpy()


@pytest.fixture
def open_alert(db, django_capture_on_commit_callbacks, mailoutbox):
    """A no-order alert on a due pump of a clinic with an e-mail address, raised (and mailed) on 1 March 2025."""
    kit_product()
    clinic, _ = clinic_with_staff(email="desk@clinic.example")
    pump = due_pump(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        raised, created = kit_alert_raise(pump=pump, reason="no_order", message="No kit.", now=ny(2025, 3, 1, 9, 0))
    assert created and len(mailoutbox) == 1
    return raised
