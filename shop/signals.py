"""Signals the shop sends, for other parts of the project to react to without being called.

``order_status_changed`` is sent after the transaction that changed the status commits, with
``order_id``, ``number``, ``from_status`` and ``to_status`` (strings). Receivers must not fail.
"""

from django.dispatch import Signal

order_status_changed = Signal()
