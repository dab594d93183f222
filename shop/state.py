"""The order state machine, declared once as data.

``TRANSITIONS`` maps each status to the statuses it may move to. ``shop.services.transitions.
order_transition`` is the only writer of ``Order.status`` and consults this map; the tests
are parametrised from it. No ORM queries here: the map can be read and tested without a database.

    pending_payment -> paid -> awaiting_prescription_review -> ready_to_fulfil
                    -> fulfilling -> shipped -> delivered
    pending_payment <-> payment_failed          (a declined card; a new attempt goes back)
    pending_payment / payment_failed -> paid | cancelled | expired (the reservation ran out)
    paid / awaiting_prescription_review / ready_to_fulfil -> cancelled (refund + release stock)
    paid ... delivered (not while fulfilling) -> refunded (when refunds reach the order total)
    fulfilling -> awaiting_prescription_review (a refill race lost at fill time; stock returned)
"""

from django.db import models


class OrderStatus(models.TextChoices):
    PENDING_PAYMENT = "pending_payment", "Pending payment"
    PAYMENT_FAILED = "payment_failed", "Payment failed"
    PAID = "paid", "Paid"
    AWAITING_PRESCRIPTION_REVIEW = "awaiting_prescription_review", "Awaiting prescription review"
    READY_TO_FULFIL = "ready_to_fulfil", "Ready to fulfil"
    FULFILLING = "fulfilling", "Fulfilling"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    EXPIRED = "expired", "Expired"
    REFUNDED = "refunded", "Refunded"


S = OrderStatus

TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_PAYMENT: frozenset({S.PAID, S.PAYMENT_FAILED, S.CANCELLED, S.EXPIRED}),
    S.PAYMENT_FAILED: frozenset({S.PENDING_PAYMENT, S.PAID, S.CANCELLED, S.EXPIRED}),
    S.PAID: frozenset({S.AWAITING_PRESCRIPTION_REVIEW, S.READY_TO_FULFIL, S.CANCELLED, S.REFUNDED}),
    S.AWAITING_PRESCRIPTION_REVIEW: frozenset({S.READY_TO_FULFIL, S.CANCELLED, S.REFUNDED}),
    S.READY_TO_FULFIL: frozenset({S.FULFILLING, S.CANCELLED, S.REFUNDED}),
    # Back to review when the prescription was used up by another order at fill time.
    S.FULFILLING: frozenset({S.SHIPPED, S.AWAITING_PRESCRIPTION_REVIEW}),
    S.SHIPPED: frozenset({S.DELIVERED, S.REFUNDED}),
    S.DELIVERED: frozenset({S.REFUNDED}),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
    S.REFUNDED: frozenset(),
}

INITIAL = S.PENDING_PAYMENT
TERMINAL = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
# The shopper may (re)try to pay.
PAYABLE = frozenset({S.PENDING_PAYMENT, S.PAYMENT_FAILED})
# Money has been taken and not given back in full.
PAID_STATES = frozenset(
    {S.PAID, S.AWAITING_PRESCRIPTION_REVIEW, S.READY_TO_FULFIL, S.FULFILLING, S.SHIPPED, S.DELIVERED}
)
# Paid, and nothing has left the shelf yet: cancelling refunds and releases the stock.
PAID_NOT_PICKED = frozenset({S.PAID, S.AWAITING_PRESCRIPTION_REVIEW, S.READY_TO_FULFIL})
CANCELLABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.CANCELLED in targets)
# Refunds (partial or full) may be issued in these states.
REFUNDABLE = frozenset(s for s, targets in TRANSITIONS.items() if S.REFUNDED in targets)


def can_transition(from_status: str, to_status: str) -> bool:
    """Whether the map allows ``from_status`` -> ``to_status``."""
    return to_status in TRANSITIONS.get(from_status, frozenset())


def allowed_targets(from_status: str) -> list[str]:
    """The statuses reachable in one step from ``from_status``, sorted for stable messages."""
    return sorted(TRANSITIONS.get(from_status, frozenset()))
