"""Signal receivers of the pumps app, connected in ``PumpsConfig.ready``.

The senders send after their commit; the work runs in Celery tasks (ids only), enqueued after the
commit (``core.enqueue``), so a broker hiccup or a slow scan never fails the change that caused it.
"""

import logging

from core.enqueue import enqueue_on_commit
from rx.signals import prescription_status_changed
from shop.signals import order_status_changed
from shop.state import OrderStatus

from .services.kits.dispatch import kit_order_mark_shipped
from .signals import pump_schedule_changed
from .tasks import kits_prescription_changed_task, kits_scan_task

log = logging.getLogger(__name__)


def scan_kits_on_schedule_change(sender, pump_ids, **kwargs):
    """A pump's program, refill, appointment or schedule changed: scan those pumps for kits."""
    ids = sorted(set(pump_ids))
    if ids:  # the daily scan catches up if the broker is down
        enqueue_on_commit(kits_scan_task, ids)


def gate_kits_on_prescription_change(sender, prescription_id, **kwargs):
    """A prescription changed status: waiting kit orders of its patient may now be covered."""
    enqueue_on_commit(kits_prescription_changed_task, prescription_id)  # the dispatch run re-gates anyway


def mark_kit_dispatched_on_ship(sender, order_id, to_status, **kwargs):
    """``order_status_changed``: a kit's order that shipped means the kit is dispatched."""
    if to_status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        try:
            kit_order_mark_shipped(order_id=order_id)
        except Exception:  # receivers must not fail; the dispatch run sees the shipped order too
            log.exception("Could not mark the kit of order %s dispatched", order_id)


def connect() -> None:
    """Connect the pumps receivers (called from ``PumpsConfig.ready``)."""
    pump_schedule_changed.connect(scan_kits_on_schedule_change, dispatch_uid="pumps.kits_scan")
    prescription_status_changed.connect(gate_kits_on_prescription_change, dispatch_uid="pumps.kits_gate")
    order_status_changed.connect(mark_kit_dispatched_on_ship, dispatch_uid="pumps.kits_shipped")
