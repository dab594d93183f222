"""What the pumps app plugs into the lower apps' extension points (named in settings, loaded by
``core.extensions.hooks``): the patient a refill kit's order line is for, and the kit orders a
user placed but may no longer see."""

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import Q

from rx.access import clinic_ids_of
from shop.models import OrderLine

from .models import KitOrder


def kit_order_line_patient(*, line: OrderLine) -> int | None:
    """``SHOP_ORDER_LINE_PATIENT_PROVIDERS``: a kit order's line is for the kit's patient (None: not a kit's line).

    Only a scheduled dispatch can be a kit's order: its flag (on the line's order, which the shop's
    reads load with the lines) answers for every other order without a query.
    """
    if not line.order.scheduled_dispatch:
        return None
    return KitOrder.objects.filter(order_id=line.order_id).values_list("patient_id", flat=True).first()


def kit_orders_withheld(*, user: User | AnonymousUser) -> Q:
    """``SHOP_ORDER_ACCESS_RESTRICTIONS``: the shop orders of kits of clinics the user is not (or no longer) staff of.

    A kit's order belongs to its clinic: a user removed from the clinic loses it at once, though
    they placed it (membership is read on every call).
    """
    kits = KitOrder.objects.filter(order_id__isnull=False).exclude(clinic_id__in=clinic_ids_of(user))
    return Q(pk__in=kits.values("order_id"))  # no NULL in the list: NOT IN with a NULL hides every order
