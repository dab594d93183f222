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
