"""Intrathecal pump refill kits: ordering, standing orders, the scan, dispatch and alerts.

A late kit can kill a patient (DOMAIN.md section 4), so nothing here fails quietly: every due
pump ends up with a kit order or an open ``KitAlert``, and every open alert escalates until it
is resolved by staff or by its cause going away. One module per step:

- ``orders`` (``kit_product_for``, ``kit_order_create``, ``standing_order_set``): one ``KitOrder``
  per pump and refill cycle (unique, created under a row lock on the pump), owning a shop ``Order``
  with one line for the kit product. The stock is reserved through ``catalog.services.stock`` under
  ``order.stock_reference`` with no time limit (held until dispatch or cancel). Clinics are invoiced:
  the order goes straight to ``paid`` with an event "invoiced to the clinic account" (payment method
  ``invoice``), then through the prescription gate.
- ``gating`` (``kit_order_gate``, ``kits_prescription_changed``): ``ready_to_fulfil`` when
  ``rx.services.coverage.prescription_find_cover`` covers the line, otherwise
  ``awaiting_prescription_review`` with the patient's queued intrathecal prescriptions marked urgent
  (first in the pharmacist's queue).
- ``scan`` (``kits_scan``): pumps whose kit must ship within ``KIT_ORDER_LEAD_DAYS``
  (``pumps.selectors.pumps_due_for_kit``, an indexed read, constant queries for the pumps that
  are not due) get their kit order made by their standing order; a due pump with neither kit order
  nor standing order raises a ``no_order`` alert. Run daily by beat and for the changed pumps on
  ``pump_schedule_changed``.
- ``dispatch`` (``kits_dispatch``): on the ship-by day, a covered, ready kit is handed to
  ``shop.services.fulfilment.order_fulfil(order_id=)``; the kit is marked dispatched. What stops
  it (no stock, no approval, payment problem, fulfilment error) raises an alert.
- ``cancel`` (``kit_order_cancel``, ``kit_order_retire``): clinic staff cancel a kit not yet
  dispatched, with a reason; its invoiced order is cancelled (stock released, nothing refunded), its
  alerts resolved; the scan does not order that refill cycle again by itself (the standing order
  carries on with the next cycle), but raises one ``no_order`` alert for the due pump so the gap is
  confirmed by a person. A kit whose cycle ended (the pump was refilled without it) is retired.
- ``alerts`` (``kit_alert_raise``, ``kit_alerts_escalate``, ``kit_alert_resolve``, ``kits_check_late``):
  at most one open alert per kit order (or due pump) and reason; e-mailed to the clinic (its address and
  staff) and the pharmacy staff when raised, then one level higher every ``KIT_ALERT_ESCALATE_HOURS``
  with a louder subject and, from level 2, the ``KIT_ALERT_ESCALATION_EMAILS`` too. Every notice is
  recorded (``KitAlertEscalation``). A kit that is late or cannot arrive in time is alerted too.

This package module holds the errors the steps raise (409, with a stable code).
"""

from core.errors import Conflict

__all__ = ["KitOrderExists", "KitOrderNotCancellable"]


class KitOrderExists(Conflict):
    """The pump already has a kit order for its current refill cycle (``data["kit_order"]``)."""

    code = "kit_order_exists"


class KitOrderNotCancellable(Conflict):
    """The kit has shipped, is being packed, or is cancelled already (``data["status"]``, the kit's status)."""

    code = "kit_order_not_cancellable"
