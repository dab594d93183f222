"""Who may see a shop order, in one place: the account that placed it.

An order names its patients' prescriptions (PHI), so every page, API view and service that looks an
order up for a person asks this module. Anyone else, and an anonymous visitor, is told the order does
not exist (404, never 403), so order numbers cannot be probed. The back office is Django's admin,
behind its own permissions; clinics see their refill-kit orders through ``pumps.access``.
"""

from django.db.models import QuerySet

from core.errors import NotFound

from .models import Order
from .services.transitions import AnyUser


def orders_visible_to(user: AnyUser) -> QuerySet[Order]:
    """The orders ``user`` may see: their own (none for an anonymous visitor)."""
    if not user.is_authenticated:
        return Order.objects.none()
    return Order.objects.filter(user_id=user.pk)


def order_for_user(*, user: AnyUser, number: str, lock: bool = False) -> Order:
    """The user's own order by number (row-locked with ``lock``); anyone else's, or an unknown number, is NotFound."""
    qs = orders_visible_to(user).filter(number=number)
    if lock:
        qs = qs.select_for_update()
    order = qs.first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order
