"""The local carrier (shop.carriers.LocalCarrier): deterministic tracking numbers, delivery after its
lead time in business days on the one carrier calendar (weekends and holidays skipped)."""

from datetime import UTC, date, datetime

import pytest

from core.calendar import BusinessCalendar
from shop.carriers import DELIVERED, IN_TRANSIT, LocalCarrier
from shop.models import Shipment
from shop.services.fulfilment import order_fulfil
from tests.shop.fulfilment_helpers import make_product, ready_order


def test_local_carrier_tracking_numbers_are_deterministic_and_business_days_skip_weekends():
    carrier = LocalCarrier()
    first = carrier.create_shipment(reference="shipment:7", shipment_id=7, address={}, parcels=[])
    assert first == carrier.create_shipment(reference="shipment:7", shipment_id=7, address={}, parcels=[])
    assert first != carrier.create_shipment(reference="shipment:8", shipment_id=8, address={}, parcels=[])
    add_business_days = BusinessCalendar().add_business_days  # the one carrier calendar (rx)
    assert add_business_days(date(2026, 11, 20), 2) == date(2026, 11, 24)  # Friday -> Tuesday
    assert add_business_days(date(2026, 11, 23), 2) == date(2026, 11, 25)


@pytest.mark.django_db
def test_local_carrier_does_not_deliver_on_a_holiday(owner, patient, pharmacist, settings):
    settings.LOCAL_CARRIER_LEAD_BUSINESS_DAYS = 2
    order = ready_order(owner, patient, pharmacist, {make_product(): 90})
    order_fulfil(order_id=order.pk)
    shipment = Shipment.objects.get()
    tz = UTC
    wednesday = datetime(2026, 11, 25, 9, tzinfo=tz)  # Thursday 26th is Thanksgiving
    Shipment.objects.filter(pk=shipment.pk).update(shipped_at=wednesday)
    carrier = LocalCarrier()
    assert carrier.track(shipment.tracking_number, now=datetime(2026, 11, 27, 12, tzinfo=tz)) == IN_TRANSIT
    assert carrier.track(shipment.tracking_number, now=datetime(2026, 11, 30, 12, tzinfo=tz)) == DELIVERED
