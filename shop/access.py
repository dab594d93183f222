"""Who may see a shop order, in one place: the account that placed it.

An order names its patients' prescriptions (PHI), so every page, API view and service that looks an
order up for a person asks this module. Anyone else, and an anonymous visitor, is told the order does
not exist (404, never 403), so order numbers cannot be probed. The back office is Django's admin,
behind its own permissions; clinics see their refill-kit orders through ``pumps.access``.

A higher app may withhold some of a user's own orders from them (``SHOP_ORDER_ACCESS_RESTRICTIONS``:
callables ``(*, user) -> Q`` over ``Order`` naming the orders the user placed but may no longer see,
e.g. pumps: a clinic's kit orders once the user left the clinic), read on every request.
"""

from django.db.models import Q, QuerySet

from core.errors import NotFound
from core.extensions import hooks

from .models import Order
from .services.transitions import AnyUser


def orders_visible_to(user: AnyUser) -> QuerySet[Order]:
    """The orders ``user`` may see: their own (none for an anonymous visitor), less any a
    ``SHOP_ORDER_ACCESS_RESTRICTIONS`` entry withholds."""
    if not user.is_authenticated:
        return Order.objects.none()
    orders = Order.objects.filter(user_id=user.pk)
    for restriction in hooks("SHOP_ORDER_ACCESS_RESTRICTIONS"):
        withheld: Q = restriction(user=user)
        orders = orders.exclude(withheld)
    return orders


def order_for_user(*, user: AnyUser, number: str, lock: bool = False) -> Order:
    """The user's own order by number (row-locked with ``lock``); anyone else's, or an unknown number, is NotFound."""
    qs = orders_visible_to(user).filter(number=number)
    if lock:
        qs = qs.select_for_update()
    order = qs.first()
    if order is None:
        raise NotFound(f"No order {number}.")
    return order
