"""Signals the pumps app sends. Sent after the transaction that made the change has committed."""

from django.dispatch import Signal

# Pumps' stored schedules (or pump data) may have changed. Argument: pump_ids (list of int).
# Sent by ``pumps.services.pumps``; the kit receivers enqueue the kit scan for those pumps.
pump_schedule_changed = Signal()
