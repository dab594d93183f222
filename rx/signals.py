"""Signals rx sends so that higher apps (shop) can react without rx importing them.

All are sent after the transaction that made the change has committed.
"""

from django.dispatch import Signal

# A prescription's status changed. Arguments: prescription_id, from_status, to_status.
# The shop listens to re-check orders waiting in "awaiting prescription review".
prescription_status_changed = Signal()

# A pharmacist decided. Arguments: prescription_id, decision_id, action ("approve", "reject",
# "request_info").
prescription_decided = Signal()

# Pumps' stored schedules (or pump data) may have changed. Argument: pump_ids (list of int).
# Sent by ``rx.services.pumps``; the shop listens to enqueue the kit scan for those pumps.
pump_schedule_changed = Signal()
