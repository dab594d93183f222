"""Order-level flows (shop.services.orders): marking an order shipped needs the shipment fulfilment packs.
(Cancelling is tested with refunds, services/test_refunds.py; the admin actions in admin/test_orders.py.)"""

import pytest

from shop.carriers import CarrierUnavailable
from shop.models import OrderEvent, Shipment
from shop.services.fulfilment import order_fulfil
from shop.services.orders import NotPacked, order_mark_shipped
from tests.shop import fulfilment_helpers


@pytest.mark.django_db
def test_order_mark_shipped_refuses_an_order_fulfilment_has_not_packed(paid_order):
    events = OrderEvent.objects.count()
    with pytest.raises(NotPacked):
        order_mark_shipped(order=paid_order, actor="system")
    paid_order.refresh_from_db()
    assert paid_order.status == "ready_to_fulfil"
    assert OrderEvent.objects.count() == events
    assert not Shipment.objects.exists()


@pytest.mark.django_db
def test_order_mark_shipped_ships_an_order_fulfilment_has_packed(paid_order, settings):
    settings.SHOP_CARRIER = f"{fulfilment_helpers.__name__}.UnreachableCarrier"  # packed, then no label
    with pytest.raises(CarrierUnavailable):
        order_fulfil(order_id=paid_order.pk)
    paid_order.refresh_from_db()
    assert paid_order.status == "fulfilling"
    assert Shipment.objects.get(order=paid_order).tracking_number is None
    order_mark_shipped(order=paid_order, actor="system")
    paid_order.refresh_from_db()
    assert paid_order.status == "shipped"
