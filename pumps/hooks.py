"""What the pumps app plugs into the lower apps' extension points (named in settings, loaded by
``core.extensions.hooks``): the patient a refill kit's order line is for."""

from shop.models import OrderLine

from .models import KitOrder


def kit_order_line_patient(*, line: OrderLine) -> int | None:
    """``SHOP_ORDER_LINE_PATIENT_PROVIDERS``: a kit order's line is for the kit's patient (None: not a kit's line)."""
    return KitOrder.objects.filter(order_id=line.order_id).values_list("patient_id", flat=True).first()
