"""Ending a kit order early (pumps.services.kits.cancel): the clinic's staff cancel it (the scan does not
order that cycle again but alerts once), and a kit whose cycle ended with a refill is retired."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import StockReservation
from core.errors import Conflict, NotFound
from pumps.models import KitAlert, KitOrder
from pumps.services import pumps as pump_services
from pumps.services.kits.cancel import kit_order_cancel
from pumps.services.kits.dispatch import kits_dispatch
from pumps.services.kits.orders import kit_order_create, standing_order_set
from pumps.services.kits.scan import kits_scan
from shop.services.orders import order_cancel
from shop.state import OrderStatus
from tests.pumps.fixtures import CANCEL_REASON, DUE, SHIP, assert_nothing_cancelled, client_for, on_day


def test_the_service_refuses_anyone_but_the_clinics_staff_as_not_found(ordered_kit):
    with pytest.raises(NotFound):
        kit_order_cancel(kit_order_id=ordered_kit.kit.pk, user=ordered_kit.other_staff, reason=CANCEL_REASON)
    assert_nothing_cancelled(ordered_kit)


def test_the_scan_does_not_reorder_a_cancelled_cycle_but_alerts_once_and_the_standing_order_stays(ordered_kit):
    standing = standing_order_set(pump=ordered_kit.pump, user=ordered_kit.staff, shipping=SHIP)
    kit_order_cancel(kit_order_id=ordered_kit.kit.pk, user=ordered_kit.staff, reason=CANCEL_REASON)

    result = kits_scan(now=DUE)
    again_result = kits_scan(now=DUE)

    assert result.created == [] and result.alerted == [ordered_kit.pump.pk]
    assert again_result.created == [] and again_result.alerted == []
    assert list(KitOrder.objects.values_list("pk", "status")) == [(ordered_kit.kit.pk, KitOrder.Status.CANCELLED)]
    # Never silent: one open no-order alert asks a person to confirm the refill is covered.
    open_alert = KitAlert.objects.get(resolved_at__isnull=True)
    assert open_alert.reason == KitAlert.Reason.NO_ORDER and "cancelled" in open_alert.message
    standing.refresh_from_db()
    assert standing.active
    # The clinic may still order this cycle's kit by hand.
    again = kit_order_create(pump=ordered_kit.pump, user=ordered_kit.staff, shipping=SHIP, now=DUE)
    assert again.pk != ordered_kit.kit.pk and again.status == KitOrder.Status.SCHEDULED


def test_a_refill_recorded_before_the_kit_shipped_retires_the_kit_and_frees_its_stock(covered, fulfilment):
    refill_at = on_day(covered.pump.ship_by - timedelta(days=2))
    pump_services.pump_refill_record(
        pump=covered.pump,
        filled_at=refill_at,
        volume_filled_ml=Decimal("20"),
        concentration_mcg_per_ml=Decimal("2000"),
        now=refill_at,
    )

    kits_scan(pump_ids=[covered.pump.pk], now=refill_at)

    covered.kit.refresh_from_db()
    covered.kit.order.refresh_from_db()
    assert covered.kit.status == KitOrder.Status.CANCELLED
    assert covered.kit.order.status == OrderStatus.CANCELLED
    assert not StockReservation.objects.filter(status=StockReservation.Status.ACTIVE).exists()
    assert kits_dispatch(now=on_day(covered.pump.ship_by), fulfil=fulfilment) == [] and fulfilment.calls == []


def test_the_generic_order_cancel_refuses_a_kits_order_which_stays_with_the_kit_flow(ordered_kit):
    number = ordered_kit.kit.order.number

    api = client_for(ordered_kit.staff).post(reverse("shop-api:order-cancel", args=[number]), {}, format="json")
    with pytest.raises(Conflict) as refused:
        order_cancel(order=ordered_kit.kit.order, actor=ordered_kit.staff, reason="Not needed.")
    page = Client()
    page.force_login(ordered_kit.staff)
    response = page.post(reverse("shop:order-cancel", args=[number]), {"reason": "x"}, follow=True)

    assert api.status_code == 409, api.json()
    assert api.json()["code"] == "order_scheduled_dispatch"
    assert "kit page" in api.json()["detail"]
    assert refused.value.code == "order_scheduled_dispatch"
    assert "kit page" in " ".join(str(m) for m in response.context["messages"])
    assert_nothing_cancelled(ordered_kit)


def test_the_kit_cancel_still_cancels_its_order(ordered_kit):
    kit_order_cancel(kit_order_id=ordered_kit.kit.pk, user=ordered_kit.staff, reason=CANCEL_REASON)

    ordered_kit.kit.refresh_from_db()
    ordered_kit.kit.order.refresh_from_db()
    assert ordered_kit.kit.status == KitOrder.Status.CANCELLED
    assert ordered_kit.kit.order.status == OrderStatus.CANCELLED
