"""The stock service on PostgreSQL: reservations, expiry, FEFO allocation, invariants."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Drug, Product, StockLot, StockReservation
from catalog.services import stock


def make_product(ndc="00832102400", on_hand=10, lots=None):
    drug, _ = Drug.objects.get_or_create(
        name="Baclofen", defaults={"slug": "baclofen", "active_ingredient": "baclofen"}
    )
    product = Product.objects.create(
        drug=drug,
        name=f"Baclofen {ndc}",
        slug=f"baclofen-{ndc}",
        ndc=ndc,
        manufacturer="UPSHER SMITH LA",
        strength=Decimal("10"),
        strength_unit="mg",
        dosage_form="tablet",
        route="oral",
        selling_unit="tablet",
    )
    today = timezone.localdate()
    for i, (qty, days) in enumerate(lots or [(on_hand, 365)]):
        StockLot.objects.create(
            product=product,
            lot_number=f"L{i}",
            expiry_date=today + timedelta(days=days),
            quantity_received=qty,
            quantity_on_hand=qty,
        )
    return product


@pytest.mark.django_db
def test_reserve_fails_when_not_enough_stock_and_holds_nothing():
    a = make_product("00832102400", on_hand=5)
    b = make_product("00832102401", on_hand=1)
    with pytest.raises(stock.InsufficientStock) as excinfo:
        stock.stock_reserve(reference="order:1", lines=[(a.pk, 3), (b.pk, 2)], ttl=timedelta(minutes=15))
    assert [s.product_id for s in excinfo.value.short] == [b.pk]
    assert not StockReservation.objects.exists()


@pytest.mark.django_db
def test_expired_lots_and_expired_reservations_do_not_count():
    p = make_product(lots=[(5, 30), (7, -1)])
    assert stock.stock_available(product_ids=[p.pk])[p.pk] == 5
    stock.stock_reserve(reference="order:1", lines=[(p.pk, 4)], ttl=timedelta(minutes=15))
    assert stock.stock_available(product_ids=[p.pk])[p.pk] == 1
    StockReservation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert stock.stock_available(product_ids=[p.pk])[p.pk] == 5
    assert stock.reservations_expire() == ["order:1"]


@pytest.mark.django_db
def test_allocate_takes_first_expiring_lot_that_outlasts_the_supply():
    p = make_product(lots=[(3, 10), (4, 60), (10, 400)])
    stock.stock_reserve(reference="order:1", lines=[(p.pk, 6)], ttl=None)
    usable_through = timezone.localdate() + timedelta(days=30)
    allocations = stock.stock_allocate(reference="order:1", product_id=p.pk, quantity=6, usable_through=usable_through)
    assert [(a.lot.lot_number, a.quantity) for a in allocations] == [("L1", 4), ("L2", 2)]
    assert StockReservation.objects.get().status == StockReservation.Status.CONSUMED
    # Idempotent: a second call returns the same allocation and takes nothing more.
    again = stock.stock_allocate(reference="order:1", product_id=p.pk, quantity=6, usable_through=usable_through)
    assert {a.pk for a in again} == {a.pk for a in allocations}
    assert sum(StockLot.objects.values_list("quantity_on_hand", flat=True)) == 17 - 6


@pytest.mark.django_db
def test_database_refuses_negative_stock():
    p = make_product(on_hand=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        StockLot.objects.filter(product=p).update(quantity_on_hand=-1)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_oversell():
    p = make_product(on_hand=3)
    results = []
    barrier = threading.Barrier(8)

    def buy(i):
        barrier.wait()
        try:
            stock.stock_reserve(reference=f"order:{i}", lines=[(p.pk, 1)], ttl=timedelta(minutes=15))
            results.append("ok")
        except stock.InsufficientStock:
            results.append("short")
        finally:
            connection.close()

    threads = [threading.Thread(target=buy, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 3
    assert results.count("short") == 5
    assert stock.stock_available(product_ids=[p.pk])[p.pk] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("quantity", [0, 100_001, True])
def test_stock_receive_refuses_an_implausible_quantity(quantity, settings):
    settings.CATALOG_LOT_MAX_QUANTITY = 100_000
    product = make_product()
    with pytest.raises(stock.InvalidStockOperation, match="^quantity: "):
        stock.stock_receive(
            product=product, lot_number="NEW", expiry_date=timezone.localdate() + timedelta(days=90), quantity=quantity
        )
    assert not StockLot.objects.filter(product=product, lot_number="NEW").exists()
