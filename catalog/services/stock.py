"""Every stock rule and every stock write, in one module.

Availability of a product = units on hand in unexpired lots - units held by active,
unexpired reservations. Writes lock the product rows first (in primary-key order, so two
transactions never wait on each other in a cycle), then read and write under that lock.
The database backs the invariants up: lot quantities and reservations are never negative.

Higher apps (shop) call these functions with a ``reference`` string of their own, such as
``"order:PH-1234"``; catalog never imports them.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, TypedDict

from django.conf import settings
from django.db import transaction
from django.db.models import F, IntegerField, OuterRef, Q, QuerySet, Subquery, Sum, Value
from django.db.models.functions import Coalesce, Greatest
from django.dispatch import Signal
from django.utils import timezone

from core.errors import Conflict, DomainError

from ..models import Product, StockAllocation, StockLot, StockReservation

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

    class Availability(TypedDict):
        """What ``with_availability`` annotates."""

        stock_on_hand: int
        stock_reserved: int
        stock_available: int


# Sent (after commit) with ``product_ids`` whenever availability may have dropped or risen.
stock_changed = Signal()


def _now() -> datetime:
    return timezone.now()


def _today() -> date:
    return timezone.localdate()


@dataclass(frozen=True)
class ShortLine:
    product_id: int
    ndc: str
    name: str
    requested: int
    available: int


class InsufficientStock(Conflict):
    """One or more lines ask for more than is available; ``data['lines']`` lists every one."""

    code = "insufficient_stock"

    def __init__(self, short: list[ShortLine]):
        parts = [f"{s.name}: {s.available} left, {s.requested} requested" for s in short]
        super().__init__("Not enough stock. " + "; ".join(parts) + ".", data={"lines": [s.__dict__ for s in short]})
        self.short = short


class InvalidStockOperation(DomainError):
    code = "invalid_stock_operation"


# --- reads --------------------------------------------------------------------------------


def on_hand_subquery(*, today: date | None = None) -> Coalesce:
    """A subquery of units on hand in unexpired lots, for ``Product`` querysets."""
    today = today or _today()
    lots = (
        StockLot.objects.filter(product=OuterRef("pk"), expiry_date__gt=today)
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity_on_hand"))
        .values("total")
    )
    return Coalesce(Subquery(lots, output_field=IntegerField()), Value(0))


def reserved_subquery(*, now: datetime | None = None) -> Coalesce:
    """A subquery of units held by active, unexpired reservations, for ``Product`` querysets."""
    now = now or _now()
    held = (
        StockReservation.objects.filter(product=OuterRef("pk"))
        .filter(_active_q(now))
        .order_by()
        .values("product")
        .annotate(total=Sum("quantity"))
        .values("total")
    )
    return Coalesce(Subquery(held, output_field=IntegerField()), Value(0))


def with_availability(queryset: QuerySet[Product]) -> "QuerySet[WithAnnotations[Product, Availability]]":
    """Annotate products with ``stock_on_hand``, ``stock_reserved`` and ``stock_available``
    (on hand - reserved, never below 0: lots that expire under a reservation do not make it negative)."""
    return queryset.annotate(stock_on_hand=on_hand_subquery(), stock_reserved=reserved_subquery()).annotate(
        stock_available=Greatest(F("stock_on_hand") - F("stock_reserved"), Value(0))
    )


def _active_q(now: datetime) -> Q:
    return Q(status=StockReservation.Status.ACTIVE) & (Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def stock_available(*, product_ids: Iterable[int]) -> dict[int, int]:
    """Return {product id: units available now} in one query, whatever the number of ids."""
    ids = list(product_ids)
    rows = with_availability(Product.objects.filter(pk__in=ids)).values_list("pk", "stock_available")
    result = dict.fromkeys(ids, 0)
    result.update(rows)
    return result


# --- writes -------------------------------------------------------------------------------


def lock_products(product_ids: Iterable[int]) -> dict[int, Product]:
    """Lock product rows in primary-key order and return them. Call inside a transaction."""
    ids = sorted(set(product_ids))
    return {p.pk: p for p in Product.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def stock_reserve(*, reference: str, lines: Iterable[tuple[int, int]], ttl: timedelta | None) -> list[StockReservation]:
    """Hold ``quantity`` units of each ``(product_id, quantity)`` line for ``reference``.

    All or nothing: when any line is short, nothing is held and InsufficientStock lists every
    short line. Reserving again for the same reference replaces its earlier hold (a cart that
    changed), so a retried checkout never holds twice.
    """
    wanted: dict[int, int] = {}
    for product_id, quantity in lines:
        if quantity <= 0:
            raise InvalidStockOperation("Quantities to reserve must be positive.")
        wanted[product_id] = wanted.get(product_id, 0) + quantity
    if not wanted:
        raise InvalidStockOperation("Nothing to reserve.")
    now = _now()
    with transaction.atomic():
        products = lock_products(wanted)
        missing = set(wanted) - set(products)
        if missing:
            raise InvalidStockOperation(f"Unknown product ids: {sorted(missing)}.")
        StockReservation.objects.filter(
            reference=reference, product_id__in=list(wanted), status=StockReservation.Status.ACTIVE
        ).update(status=StockReservation.Status.RELEASED, updated_at=now)
        available = stock_available(product_ids=wanted)
        short = [
            ShortLine(pid, products[pid].ndc, products[pid].name, qty, available[pid])
            for pid, qty in sorted(wanted.items())
            if available[pid] < qty
        ]
        if short:
            raise InsufficientStock(short)
        expires_at = now + ttl if ttl is not None else None
        held = []
        for pid, qty in sorted(wanted.items()):
            reservation, _ = StockReservation.objects.update_or_create(
                reference=reference,
                product_id=pid,
                defaults={"quantity": qty, "status": StockReservation.Status.ACTIVE, "expires_at": expires_at},
            )
            held.append(reservation)
        transaction.on_commit(lambda: stock_changed.send(sender=StockReservation, product_ids=list(wanted)))
    return held


def stock_release(*, reference: str) -> int:
    """Release every active hold of ``reference``; return how many units came back."""
    with transaction.atomic():
        rows = list(
            StockReservation.objects.select_for_update()
            .filter(reference=reference, status=StockReservation.Status.ACTIVE)
            .order_by("pk")
        )
        for row in rows:
            row.status = StockReservation.Status.RELEASED
            row.save(update_fields=["status", "updated_at"])
        product_ids = [r.product_id for r in rows]
        if product_ids:
            transaction.on_commit(lambda: stock_changed.send(sender=StockReservation, product_ids=product_ids))
    return sum(r.quantity for r in rows)


def reservations_expire(*, now: datetime | None = None, limit: int = 1000) -> list[str]:
    """Mark expired active reservations released; return the references they belonged to."""
    now = now or _now()
    with transaction.atomic():
        rows = list(
            StockReservation.objects.select_for_update(skip_locked=True)
            .filter(status=StockReservation.Status.ACTIVE, expires_at__lte=now)
            .order_by("pk")[:limit]
        )
        if not rows:
            return []
        StockReservation.objects.filter(pk__in=[r.pk for r in rows]).update(
            status=StockReservation.Status.RELEASED, updated_at=now
        )
        product_ids = sorted({r.product_id for r in rows})
        transaction.on_commit(lambda: stock_changed.send(sender=StockReservation, product_ids=product_ids))
    return sorted({r.reference for r in rows})


def stock_receive(*, product: Product, lot_number: str, expiry_date: date, quantity: int) -> StockLot:
    """Record a newly received lot. A lot number already received for the product is refused.

    ``quantity`` is a whole number of selling units from 1 to ``CATALOG_LOT_MAX_QUANTITY``: a
    mistyped or malicious figure (an extra digit or two) would otherwise make stock appear that is
    not on the shelf, and be sold.
    """
    cap = settings.CATALOG_LOT_MAX_QUANTITY
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= cap:
        raise InvalidStockOperation(f"quantity: a received lot holds a whole number of units from 1 to {cap}.")
    if expiry_date <= _today():
        raise InvalidStockOperation("This lot has already expired; expired stock cannot be received.")
    with transaction.atomic():
        lock_products([product.pk])
        if StockLot.objects.filter(product=product, lot_number=lot_number).exists():
            raise Conflict(f"Lot {lot_number} of {product.name} was already received.", code="duplicate_lot")
        lot = StockLot.objects.create(
            product=product,
            lot_number=lot_number,
            expiry_date=expiry_date,
            quantity_received=quantity,
            quantity_on_hand=quantity,
        )
        transaction.on_commit(lambda: stock_changed.send(sender=StockLot, product_ids=[product.pk]))
    return lot


def stock_allocate(
    *, reference: str, product_id: int, quantity: int, usable_through: date | None = None
) -> list[StockAllocation]:
    """Take ``quantity`` units for ``reference`` out of lots, first expiring first out.

    Only lots that are unexpired and still good on ``usable_through`` (the last day of the
    days supply) are used. The reference's hold on the product is consumed. Calling again for
    a reference that was already allocated returns the earlier allocation (idempotent).
    """
    if quantity <= 0:
        raise InvalidStockOperation("Quantities to allocate must be positive.")
    today = _today()
    good_after = max(today, usable_through or today)
    with transaction.atomic():
        lock_products([product_id])
        existing = list(
            StockAllocation.objects.filter(reference=reference, lot__product_id=product_id).select_related("lot")
        )
        if existing:
            return existing
        reservation = (
            StockReservation.objects.filter(
                reference=reference, product_id=product_id, status=StockReservation.Status.ACTIVE
            )
            .filter(_active_q(_now()))
            .first()
        )
        held = reservation.quantity if reservation else 0
        lots = list(
            StockLot.objects.select_for_update()
            .filter(product_id=product_id, expiry_date__gt=good_after, quantity_on_hand__gt=0)
            .order_by("expiry_date", "pk")
        )
        # Units in any lot that others hold must stay for them: only our own hold plus the
        # free units may be taken.
        free = stock_available(product_ids=[product_id])[product_id] + held
        usable = sum(lot.quantity_on_hand for lot in lots)
        if min(free, usable) < quantity:
            product = Product.objects.get(pk=product_id)
            raise InsufficientStock([ShortLine(product_id, product.ndc, product.name, quantity, min(free, usable))])
        remaining = quantity
        allocations = []
        for lot in lots:
            if remaining == 0:
                break
            take = min(lot.quantity_on_hand, remaining)
            StockLot.objects.filter(pk=lot.pk).update(quantity_on_hand=F("quantity_on_hand") - take)
            allocations.append(StockAllocation.objects.create(lot=lot, reference=reference, quantity=take))
            remaining -= take
        if reservation:
            reservation.status = StockReservation.Status.CONSUMED
            reservation.save(update_fields=["status", "updated_at"])
        transaction.on_commit(lambda: stock_changed.send(sender=StockAllocation, product_ids=[product_id]))
    return allocations


def stock_return(*, reference: str) -> int:
    """Put units allocated to ``reference`` back into their lots (a cancelled, unshipped order)."""
    with transaction.atomic():
        allocations = list(StockAllocation.objects.select_for_update().filter(reference=reference).order_by("pk"))
        if not allocations:
            return 0
        lock_products({a.lot.product_id for a in allocations})
        for allocation in allocations:
            StockLot.objects.filter(pk=allocation.lot_id).update(
                quantity_on_hand=F("quantity_on_hand") + allocation.quantity
            )
        units = sum(a.quantity for a in allocations)
        product_ids = sorted({a.lot.product_id for a in allocations})
        StockAllocation.objects.filter(pk__in=[a.pk for a in allocations]).delete()
        transaction.on_commit(lambda: stock_changed.send(sender=StockAllocation, product_ids=product_ids))
    return units
