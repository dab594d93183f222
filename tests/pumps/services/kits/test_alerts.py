"""Kit alerts (pumps.services.kits.alerts): late and cannot-arrive kits are alerted, an alert is open once
per cause, escalates louder and to more people until resolved, and closes when its cause is gone."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction

from core.errors import NotFound
from pumps.models import KitAlert, KitAlertEscalation, KitOrder
from pumps.services import pumps as pump_services
from pumps.services.kits.alerts import kit_alert_raise, kit_alert_resolve, kit_alerts_close, kit_alerts_escalate
from pumps.services.kits.dispatch import kits_dispatch
from pumps.services.kits.orders import kit_order_create, standing_order_set
from pumps.services.kits.scan import kits_scan
from tests.pumps.fixtures import DUE, SHIP, clinic_with_staff, due_pump, kit_product, make_pump, ny, on_day, pharmacist


def test_a_kit_not_dispatched_after_its_ship_by_day_raises_a_late_alert(db, fulfilment):
    kit_product()
    clinic, staff = clinic_with_staff()
    pump = due_pump(clinic)
    kit = kit_order_create(pump=pump, user=staff, shipping=SHIP, now=on_day(pump.ship_by - timedelta(days=5)))

    kits_dispatch(now=on_day(pump.ship_by + timedelta(days=1)), fulfil=fulfilment)

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
    standing_order_set(pump=pump, user=staff, shipping=SHIP)

    kits_scan(now=ny(2025, 3, 3, 10, 0))

    kit = KitOrder.objects.get(pump=pump)
    assert KitAlert.objects.filter(kit_order=kit, reason="cannot_arrive", resolved_at__isnull=True).exists()


def test_an_alert_escalates_one_level_per_interval_louder_and_to_more_people(
    open_alert, settings, mailoutbox, django_capture_on_commit_callbacks
):
    settings.KIT_ALERT_ESCALATE_HOURS = 4
    settings.KIT_ALERT_ESCALATION_EMAILS = ["manager@pharmacy.example"]
    start = open_alert.opened_at
    assert mailoutbox[0].subject.startswith("Refill kit alert")

    with django_capture_on_commit_callbacks(execute=True):
        assert kit_alerts_escalate(now=start + timedelta(hours=3)) == []
        assert kit_alerts_escalate(now=start + timedelta(hours=4)) == [open_alert.pk]
        assert kit_alerts_escalate(now=start + timedelta(hours=5)) == []
        assert kit_alerts_escalate(now=start + timedelta(hours=8)) == [open_alert.pk]

    open_alert.refresh_from_db()
    assert open_alert.level == 2
    assert list(KitAlertEscalation.objects.filter(alert=open_alert).values_list("level", flat=True)) == [0, 1, 2]
    assert mailoutbox[1].subject.startswith("URGENT")
    assert "manager@pharmacy.example" not in mailoutbox[1].to
    assert mailoutbox[2].subject.startswith("CRITICAL")
    assert "manager@pharmacy.example" in mailoutbox[2].to and "desk@clinic.example" in mailoutbox[2].to


def test_a_resolved_alert_stops_escalating(open_alert, mailoutbox):
    staff = pharmacist()
    kit_alert_resolve(alert_id=open_alert.pk, user=staff, resolution="Kit couriered by hand.")

    assert kit_alerts_escalate(now=open_alert.opened_at + timedelta(days=2)) == []
    open_alert.refresh_from_db()
    assert (open_alert.level, open_alert.resolved_by) == (0, staff)
    assert len(mailoutbox) == 1


def test_raising_the_same_alert_again_keeps_one_open_alert(open_alert):
    again, created = kit_alert_raise(pump=open_alert.pump, reason="no_order", message="Still no kit.")

    assert (again.pk, created) == (open_alert.pk, False)
    with pytest.raises(IntegrityError), transaction.atomic():
        KitAlert.objects.create(pump=open_alert.pump, clinic=open_alert.clinic, reason="no_order", message="dup")
    assert KitAlert.objects.count() == 1


def test_closing_alerts_whose_cause_is_gone_closes_only_those_of_that_kit_or_pump_and_reason(open_alert):
    kit_alert_raise(pump=open_alert.pump, reason="no_stock", message="No stock.", now=DUE)

    assert kit_alerts_close(pump_id=open_alert.pump_id, reasons=["no_stock"], now=DUE, resolution="Stock in.") == 1
    assert kit_alerts_close(kit_order_id=0, now=DUE, resolution="Nothing of a kit order.") == 0

    open_alert.refresh_from_db()
    assert open_alert.resolved_at is None
    closed = KitAlert.objects.get(reason="no_stock")
    assert (closed.resolved_at, closed.resolution, closed.resolved_by) == (DUE, "Stock in.", None)


def test_resolving_an_unknown_alert_is_not_found_and_resolving_twice_changes_nothing(open_alert):
    with pytest.raises(NotFound):
        kit_alert_resolve(alert_id=open_alert.pk + 1000, resolution="x")
    first = kit_alert_resolve(alert_id=open_alert.pk, user=pharmacist(), resolution="Kit couriered.", now=DUE)
    again = kit_alert_resolve(alert_id=open_alert.pk, resolution="Again.", now=DUE + timedelta(days=1))

    assert (again.resolved_at, again.resolution, again.resolved_by) == (DUE, "Kit couriered.", first.resolved_by)
