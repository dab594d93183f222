"""The pumps receivers (pumps.receivers), end to end on a real Celery worker: a pump's schedule change
enqueues the kit scan, which orders the standing order's kit."""

from datetime import timedelta

from django.utils import timezone

from pumps.models import KitOrder
from pumps.services import pumps as pump_services
from pumps.services.kits.orders import standing_order_set
from tests.conftest import wait_for
from tests.pumps.fixtures import SHIP, clinic_with_staff, kit_product, make_pump


def test_a_schedule_change_makes_the_worker_order_the_standing_kit(celery_worker):
    kit_product()
    clinic, staff = clinic_with_staff()
    now = timezone.now()
    # Filled 60 days ago at the seed example's rate: the kit must ship within days.
    pump = make_pump(clinic, fill_at=now - timedelta(days=60), now=now)
    standing_order_set(pump=pump, user=staff, shipping=SHIP)
    assert not KitOrder.objects.filter(pump=pump).exists()

    pump_services.pump_appointment_set(pump=pump, scheduled_at=now + timedelta(days=6))

    kit = wait_for(
        lambda: KitOrder.objects.filter(pump=pump, order__isnull=False).first(),
        message="the kit order made by the worker",
    )
    assert kit.source == KitOrder.Source.STANDING
    assert kit.refill_id == pump.refills.get().pk
