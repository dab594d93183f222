"""Refill kits: dispatch on the ship-by day, alerts (no stock, no approval, late) and their escalation,
and the scan run by a real Celery worker when a pump's schedule changes."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from pumps.services import pumps as pump_services
from pumps.models import KitAlert, KitAlertEscalation, KitOrder
from pumps.services import kits
from shop.state import OrderStatus
from tests.conftest import wait_for
from tests.pumps.kit_fixtures import (
    SHIP,
    clinic_with_staff,
    due_pump,
    intrathecal_rx,
    kit_product,
    make_pump,
    ny,
    pharmacist,
)


def on_day(day, hour=9):
    return ny(day.year, day.month, day.day, hour, 0)


@pytest.fixture
def covered(db):
    """A clinic's due pump with a kit order covered by an approved prescription (ready to fulfil)."""
    product = kit_product()
    clinic, staff = clinic_with_staff(email="desk@clinic.example")
    pump = due_pump(clinic)
    intrathecal_rx(pump.patient, product, approve_by=pharmacist())
    kit = kits.kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=10)))
    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL
    return type("Covered", (), {"product": product, "clinic": clinic, "staff": staff, "pump": pump, "kit": kit})


@pytest.fixture
def fulfil_calls(monkeypatch):
    """Replace the fulfilment hand-over with one that ships the order and records the call."""
    from shop.services.fulfilment import order_fulfil

    calls = []

    def fake(order_id):
        calls.append(order_id)
        order_fulfil(order_id=order_id)

    monkeypatch.setattr(kits, "_order_fulfil", fake)
    return calls


def test_a_kit_is_not_dispatched_before_its_ship_by_day(covered, fulfil_calls):
    assert kits.kits_dispatch(now=on_day(covered.pump.ship_by - timedelta(days=1))) == []

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.SCHEDULED and fulfil_calls == []


def test_a_covered_kit_is_handed_to_fulfilment_and_dispatched_on_its_ship_by_day(covered, fulfil_calls):
    moment = on_day(covered.pump.ship_by)

    assert kits.kits_dispatch(now=moment) == [covered.kit.pk]
    assert kits.kits_dispatch(now=moment + timedelta(hours=2)) == []

    covered.kit.refresh_from_db()
    assert (covered.kit.status, covered.kit.dispatched_at) == (KitOrder.Status.DISPATCHED, moment)
    assert fulfil_calls == [covered.kit.order_id]
    assert covered.kit.order.status == OrderStatus.SHIPPED
    assert not KitAlert.objects.exists()


def test_the_real_fulfilment_ships_a_covered_kit_on_its_ship_by_day(covered):
    kits.kits_dispatch(now=on_day(covered.pump.ship_by))

    covered.kit.refresh_from_db()
    covered.kit.order.refresh_from_db()
    assert covered.kit.order.status == OrderStatus.SHIPPED
    assert covered.kit.status == KitOrder.Status.DISPATCHED


def test_a_fulfilment_error_fails_the_kit_and_alerts_then_a_later_run_ships_it(covered, monkeypatch, fulfil_calls):
    good = kits._order_fulfil

    def broken(order_id):
        raise RuntimeError("carrier down")

    monkeypatch.setattr(kits, "_order_fulfil", broken)
    moment = on_day(covered.pump.ship_by)
    kits.kits_dispatch(now=moment)

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.FAILED and "carrier down" in covered.kit.last_error
    alert = KitAlert.objects.get(kit_order=covered.kit, reason="dispatch_failed")

    monkeypatch.setattr(kits, "_order_fulfil", good)
    kits.kits_dispatch(now=moment + timedelta(hours=1))

    covered.kit.refresh_from_db()
    alert.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.DISPATCHED
    assert alert.resolved_at is not None


def test_a_kit_without_an_approved_prescription_on_its_ship_by_day_alerts_no_approval(db, fulfil_calls):
    product = kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit = kits.kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=5)))

    kits.kits_dispatch(now=on_day(pump.ship_by))

    kit.refresh_from_db()
    assert kit.status == KitOrder.Status.SCHEDULED and fulfil_calls == []
    assert KitAlert.objects.get(kit_order=kit).reason == "no_approval"

    rx = intrathecal_rx(pump.patient, product, approve_by=pharmacist())
    kits.kits_prescription_changed(prescription_id=rx.pk)
    kits.kits_dispatch(now=on_day(pump.ship_by, hour=11))

    kit.refresh_from_db()
    assert kit.status == KitOrder.Status.DISPATCHED
    assert not KitAlert.objects.filter(resolved_at__isnull=True).exists()


def test_a_kit_not_dispatched_after_its_ship_by_day_raises_a_late_alert(db, fulfil_calls):
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit = kits.kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=5)))

    kits.kits_dispatch(now=on_day(pump.ship_by + timedelta(days=1)))

    reasons = set(KitAlert.objects.filter(kit_order=kit, resolved_at__isnull=True).values_list("reason", flat=True))
    assert {"late", "no_approval"} <= reasons


def test_a_kit_that_cannot_arrive_before_the_appointment_is_alerted(db):
    kit_product()
    clinic, staff = clinic_with_staff()
    fill = ny(2025, 1, 6, 10, 0)
    pump = make_pump(clinic, fill_at=fill, now=fill)
    # An appointment two days away: no kit can be there in time.
    pump_services.pump_appointment_set(pump=pump, scheduled_at=ny(2025, 3, 5, 9, 0), now=ny(2025, 3, 3, 9, 0))
    pump.refresh_from_db()
    kits.standing_order_set(pump=pump, user=staff, shipping=SHIP)

    kits.kits_scan(now=ny(2025, 3, 3, 10, 0))

    kit = KitOrder.objects.get(pump=pump)
    assert KitAlert.objects.filter(kit_order=kit, reason="cannot_arrive", resolved_at__isnull=True).exists()


# --- escalation ---------------------------------------------------------------------------

@pytest.fixture
def alert(db, django_capture_on_commit_callbacks, mailoutbox):
    kit_product()
    clinic, _ = clinic_with_staff(email="desk@clinic.example")
    pump = due_pump(clinic)
    with django_capture_on_commit_callbacks(execute=True):
        raised, created = kits.kit_alert_raise(pump=pump, reason="no_order", message="No kit.",
                                               now=ny(2025, 3, 1, 9, 0))
    assert created and len(mailoutbox) == 1
    return raised


def test_an_alert_escalates_one_level_per_interval_louder_and_to_more_people(
        alert, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.KIT_ALERT_ESCALATE_HOURS = 4
    settings.KIT_ALERT_ESCALATION_EMAILS = ["manager@pharmacy.example"]
    start = alert.opened_at
    assert mailoutbox[0].subject.startswith("Refill kit alert")

    with django_capture_on_commit_callbacks(execute=True):
        assert kits.kit_alerts_escalate(now=start + timedelta(hours=3)) == []
        assert kits.kit_alerts_escalate(now=start + timedelta(hours=4)) == [alert.pk]
        assert kits.kit_alerts_escalate(now=start + timedelta(hours=5)) == []
        assert kits.kit_alerts_escalate(now=start + timedelta(hours=8)) == [alert.pk]

    alert.refresh_from_db()
    assert alert.level == 2
    assert list(KitAlertEscalation.objects.filter(alert=alert).values_list("level", flat=True)) == [0, 1, 2]
    assert mailoutbox[1].subject.startswith("URGENT")
    assert "manager@pharmacy.example" not in mailoutbox[1].to
    assert mailoutbox[2].subject.startswith("CRITICAL")
    assert "manager@pharmacy.example" in mailoutbox[2].to and "desk@clinic.example" in mailoutbox[2].to


def test_a_resolved_alert_stops_escalating(alert, mailoutbox):
    staff = pharmacist()
    kits.kit_alert_resolve(alert_id=alert.pk, user=staff, resolution="Kit couriered by hand.")

    assert kits.kit_alerts_escalate(now=alert.opened_at + timedelta(days=2)) == []
    alert.refresh_from_db()
    assert (alert.level, alert.resolved_by) == (0, staff)
    assert len(mailoutbox) == 1


def test_raising_the_same_alert_again_keeps_one_open_alert(alert):
    again, created = kits.kit_alert_raise(pump=alert.pump, reason="no_order", message="Still no kit.")

    assert (again.pk, created) == (alert.pk, False)
    with pytest.raises(IntegrityError), transaction.atomic():
        KitAlert.objects.create(pump=alert.pump, clinic=alert.clinic, reason="no_order", message="dup")
    assert KitAlert.objects.count() == 1


def test_pharmacy_staff_resolve_an_alert_through_the_api_and_others_get_404(alert):
    from django.urls import reverse
    from rest_framework.test import APIClient

    url = reverse("pumps-api:kit-alert-resolve", kwargs={"pk": alert.pk})
    outsider = APIClient()
    outsider.force_authenticate(clinic_with_staff()[1])
    assert outsider.post(url, {"resolution": "x"}, format="json").status_code == 404
    staff = APIClient()
    staff.force_authenticate(pharmacist())
    assert staff.post(url, {}, format="json").status_code == 400

    response = staff.post(url, {"resolution": "Called the clinic; kit couriered."}, format="json")

    assert response.status_code == 200
    alert.refresh_from_db()
    assert alert.resolved_at is not None and alert.resolution == "Called the clinic; kit couriered."


# --- the scan on a real worker ------------------------------------------------------------

def test_a_schedule_change_makes_the_worker_order_the_standing_kit(celery_worker):
    kit_product()
    clinic, staff = clinic_with_staff()
    now = timezone.now()
    # Filled 60 days ago at the seed example's rate: the kit must ship within days.
    pump = make_pump(clinic, fill_at=now - timedelta(days=60), now=now)
    kits.standing_order_set(pump=pump, user=staff, shipping=SHIP)
    assert not KitOrder.objects.filter(pump=pump).exists()

    pump_services.pump_appointment_set(pump=pump, scheduled_at=now + timedelta(days=6))

    kit = wait_for(lambda: KitOrder.objects.filter(pump=pump, order__isnull=False).first(),
                   message="the kit order made by the worker")
    assert kit.source == KitOrder.Source.STANDING
    assert kit.refill_id == pump.refills.get().pk


def test_kit_beat_entries_expire_and_name_existing_tasks():
    from pumps import tasks

    for name in ("pumps-kits-scan", "pumps-kits-dispatch", "pumps-kit-alerts-escalate"):
        entry = tasks.BEAT_SCHEDULE[name]
        assert 0 < entry["options"]["expires"] <= entry["schedule"]
        assert hasattr(tasks, entry["task"].rsplit(".", 1)[1])


def test_a_refill_recorded_before_the_kit_shipped_retires_the_kit_and_frees_its_stock(covered, fulfil_calls):
    from decimal import Decimal

    from catalog.models import StockReservation

    refill_at = on_day(covered.pump.ship_by - timedelta(days=2))
    pump_services.pump_refill_record(pump=covered.pump, filled_at=refill_at, volume_filled_ml=Decimal("20"),
                                     concentration_mcg_per_ml=Decimal("2000"), now=refill_at)

    kits.kits_scan(pump_ids=[covered.pump.pk], now=refill_at)

    covered.kit.refresh_from_db()
    covered.kit.order.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.CANCELLED
    assert covered.kit.order.status == OrderStatus.CANCELLED
    assert not StockReservation.objects.filter(status=StockReservation.Status.ACTIVE).exists()
    assert kits.kits_dispatch(now=on_day(covered.pump.ship_by)) == [] and fulfil_calls == []


def test_fulfilment_runs_outside_the_kits_transaction(covered, monkeypatch):
    """Fulfilment commits step by step and calls the carrier: no lock or transaction of ours may wrap it."""
    from django.db import connection

    from shop.services.fulfilment import order_fulfil

    baseline = list(connection.savepoint_ids)
    seen = []

    def spy(order_id):
        seen.append(list(connection.savepoint_ids))
        order_fulfil(order_id=order_id)

    monkeypatch.setattr(kits, "_order_fulfil", spy)
    kits.kits_dispatch(now=on_day(covered.pump.ship_by))

    assert seen == [baseline]
    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.DISPATCHED


def test_a_kit_whose_fulfilment_finds_no_usable_stock_fails_with_a_no_stock_alert(covered, monkeypatch):
    from shop.models import Order

    def stuck(order_id):
        Order.objects.filter(pk=order_id).update(status=OrderStatus.FULFILLING)

    monkeypatch.setattr(kits, "_order_fulfil", stuck)
    kits.kits_dispatch(now=on_day(covered.pump.ship_by))

    covered.kit.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.FAILED
    assert KitAlert.objects.filter(kit_order=covered.kit, reason="no_stock", resolved_at__isnull=True).count() == 1
