"""May a paid order go to fulfilment without a pharmacist? One function answers, one acts on it.

For now a prescription-required line is never covered automatically, so every order holding
one waits in ``awaiting_prescription_review``. The prescription work (rx) connects here: make
``order_rx_covered`` consult the verified prescriptions, and call ``order_prescription_gate``
when a prescription is approved so waiting orders move on.
"""

from django.db import transaction

from ..models import Order
from ..state import OrderStatus


def order_rx_covered(*, order: Order) -> bool:
    """True when every prescription-required line of ``order`` is covered by a verified prescription."""
    return not order.lines.filter(rx_required=True).exists()


def order_prescription_gate(*, order: Order, actor, reason: str = "") -> Order:
    """Move an order waiting for prescription review to ``ready_to_fulfil`` once it is covered.

    Does nothing (and returns the order) when the order is not waiting or is still not covered.
    """
    from .orders import order_get_locked, order_transition

    with transaction.atomic():
        locked = order_get_locked(order_id=order.pk)
        if locked.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW and order_rx_covered(order=locked):
            order_transition(order=locked, to=OrderStatus.READY_TO_FULFIL, actor=actor,
                             reason=reason or "Prescriptions verified.")
    order.refresh_from_db()
    return order
