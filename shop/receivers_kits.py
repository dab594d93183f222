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
