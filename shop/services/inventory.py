"""Inventory work run by Celery: expiring unpaid orders' reservations, and low-stock alerts.

- ``orders_expire_reservations`` releases expired holds (``catalog.services.stock.
  reservations_expire``) and moves their unpaid orders to ``expired`` with an event. Orders
  whose own ``reservation_expires_at`` has passed are swept too, so a hold released some other
  way never leaves an order payable for ever. Running it twice changes nothing more.
- ``low_stock_check`` sends staff (``settings.PHARMACY_STAFF_EMAILS``) one alert per crossing of
  a product's ``low_stock_threshold``: ``Product.low_stock_alerted`` is set by a conditional
  UPDATE (only the caller that flips it sends), and cleared when availability is back at or
  above the threshold. It runs from the ``stock_changed`` signal through a task.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone

from catalog.models import Product
from catalog.services.stock import reservations_expire, stock_available

from ..models import Order
from ..state import PAYABLE, OrderStatus
from .transitions import SYSTEM, TransitionRefused, order_transition

log = logging.getLogger(__name__)

ORDER_PREFIX = "order:"


def _now() -> datetime:
    return timezone.now()


def orders_expire_reservations(*, now: datetime | None = None) -> list[str]:
    """Release expired stock holds and expire the unpaid orders they belonged to. Returns their numbers."""
    now = now or _now()
    references = reservations_expire(now=now)
    numbers = {ref[len(ORDER_PREFIX) :] for ref in references if ref.startswith(ORDER_PREFIX)}
    numbers.update(
        Order.objects.filter(status__in=PAYABLE, reservation_expires_at__lte=now).values_list("number", flat=True)
    )
    expired = []
    for order in Order.objects.filter(number__in=sorted(numbers), status__in=PAYABLE).order_by("pk"):
        try:
            order_transition(
                order=order,
                to=OrderStatus.EXPIRED,
                actor=SYSTEM,
                reason="The stock reservation expired before the order was paid.",
            )
        except TransitionRefused:
            continue  # paid (or cancelled) meanwhile
        expired.append(order.number)
    if expired:
        log.info("Expired unpaid orders: %s", ", ".join(expired))
    return expired


def low_stock_check(*, product_ids: Iterable[int]) -> list[int]:
    """Alert staff about products whose availability fell under their threshold. Returns alerted ids."""
    ids = sorted(set(product_ids))
    products = list(Product.objects.filter(pk__in=ids, low_stock_threshold__gt=0).order_by("pk"))
    if not products:
        return []
    available = stock_available(product_ids=[p.pk for p in products])
    alerted = []
    for product in products:
        left = available[product.pk]
        if left >= product.low_stock_threshold:
            Product.objects.filter(pk=product.pk, low_stock_alerted=True).update(low_stock_alerted=False)
            continue
        with transaction.atomic():
            # Concurrent checks wait on the row here; only the one that flips the flag sends.
            if not Product.objects.filter(pk=product.pk, low_stock_alerted=False).update(low_stock_alerted=True):
                continue
            send_mail(
                subject=f"Low stock: {product.name} ({product.ndc_display}) has {left} left",
                message=(
                    f"{product.name}, NDC {product.ndc_display}: {left} available, under the alert "
                    f"threshold of {product.low_stock_threshold}. Time to reorder.\n\n"
                    "You will get one alert per crossing: the next one after stock has risen back "
                    "to the threshold and fallen under it again."
                ),
                from_email=settings.DEFAULT_FROM_EMAIL,
                recipient_list=list(settings.PHARMACY_STAFF_EMAILS),
            )
        alerted.append(product.pk)
    return alerted
