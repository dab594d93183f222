"""Receivers for the refill kits, connected in ``ShopConfig.ready``.

rx sends both signals after its commit; the work runs in Celery tasks (ids only) so that a
broker hiccup or a slow scan never fails the clinic's change that caused it.
"""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def scan_kits_on_schedule_change(sender, pump_ids, **kwargs):
    """A pump's program, refill, appointment or schedule changed: scan those pumps for kits."""
    from .tasks import kits_scan_task

    ids = sorted(set(pump_ids))

    def enqueue():
        try:
            kits_scan_task.delay(ids)
        except Exception:  # the daily scan catches up; the change itself must stand
            log.exception("Could not enqueue the kit scan for pumps %s", ids)

    if ids:
        transaction.on_commit(enqueue)


def gate_kits_on_prescription_change(sender, prescription_id, **kwargs):
    """A prescription changed status: waiting kit orders of its patient may now be covered."""
    from .tasks import kits_prescription_changed_task

    def enqueue():
        try:
            kits_prescription_changed_task.delay(prescription_id)
        except Exception:  # the dispatch run re-gates every due kit anyway
            log.exception("Could not enqueue the kit gate for prescription %s", prescription_id)

    transaction.on_commit(enqueue)


def mark_kit_dispatched_on_ship(sender, order_id, to_status, **kwargs):
    """``order_status_changed``: a kit's order that shipped means the kit is dispatched."""
    from .services.kits import kit_order_mark_shipped
    from .state import OrderStatus

    if to_status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        try:
            kit_order_mark_shipped(order_id=order_id)
        except Exception:  # receivers must not fail; the dispatch run sees the shipped order too
            log.exception("Could not mark the kit of order %s dispatched", order_id)


def connect() -> None:
    """Connect the kit receivers (called from ``ShopConfig.ready``)."""
    from rx.services.pumps import pump_schedule_changed
    from rx.signals import prescription_status_changed

    from .signals import order_status_changed

    pump_schedule_changed.connect(scan_kits_on_schedule_change, dispatch_uid="shop.kits_scan")
    prescription_status_changed.connect(gate_kits_on_prescription_change, dispatch_uid="shop.kits_gate")
    order_status_changed.connect(mark_kit_dispatched_on_ship, dispatch_uid="shop.kits_shipped")
