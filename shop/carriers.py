"""Carriers: how a packed shipment gets a tracking number, and how far it has got.

``Carrier`` is the interface; ``LocalCarrier`` the implementation used until a real carrier is
wired in (and in tests). ``carrier_get()`` returns the one named by ``settings.SHOP_CARRIER``
(a dotted path; default ``shop.carriers.LocalCarrier``).

``create_shipment`` receives the shipment's own ``reference`` (``"shipment:<id>"``) as an
idempotency key: a carrier asked twice for the same reference must return the same tracking
number, so a retried fulfilment task never buys a second label.
"""

from datetime import datetime
from typing import Any, Protocol, cast

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from core.shipping import shipping_policy

from .models import Shipment

IN_TRANSIT = "in_transit"
DELIVERED = "delivered"
UNKNOWN = "unknown"


class CarrierUnavailable(Exception):
    """The carrier could not be reached (transient: the task retries with backoff)."""


class Carrier(Protocol):
    name: str

    def create_shipment(
        self, *, reference: str, shipment_id: int, address: dict[str, Any], parcels: list[dict[str, Any]]
    ) -> str:
        """Book the parcel; return its tracking number (the same one for the same reference)."""

    def track(self, tracking_number: str) -> str:
        """``in_transit``, ``delivered`` or ``unknown``."""


class LocalCarrier:
    """A carrier without a network: the tracking number is derived from the shipment id, and a
    parcel counts as delivered once ``settings.LOCAL_CARRIER_LEAD_BUSINESS_DAYS`` (default 2)
    business days have passed since it was shipped, on the one carrier calendar (weekends, US
    federal holidays and ``PUMP_KIT_EXTRA_HOLIDAYS`` closed: ``core.shipping.shipping_policy``)."""

    name = "local"
    PREFIX = "LC"

    def create_shipment(
        self, *, reference: str, shipment_id: int, address: dict[str, Any], parcels: list[dict[str, Any]]
    ) -> str:
        body = f"{shipment_id:010d}"
        check = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10
        return f"{self.PREFIX}{body}{check}"

    def track(self, tracking_number: str, *, now: datetime | None = None) -> str:
        shipment = Shipment.objects.filter(tracking_number=tracking_number).only("shipped_at").first()
        if shipment is None or shipment.shipped_at is None:
            return UNKNOWN
        lead = getattr(settings, "LOCAL_CARRIER_LEAD_BUSINESS_DAYS", 2)
        now = now or timezone.now()
        shipped_on = timezone.localdate(shipment.shipped_at)
        delivered_on = shipping_policy().calendar.add_business_days(shipped_on, lead)
        return DELIVERED if timezone.localdate(now) >= delivered_on else IN_TRANSIT


def carrier_get() -> Carrier:
    return cast(Carrier, import_string(getattr(settings, "SHOP_CARRIER", "shop.carriers.LocalCarrier"))())
