"""The kit scan: order the standing orders' kits of the pumps due within the lead time, alert the rest.

Reads only the due pumps (``pumps.selectors.pumps_due_for_kit``, indexed), in a constant number of
queries; each kit order created costs its own few. Run daily by beat and, for the pumps whose
schedule changed, on ``pump_schedule_changed``. See ``pumps.services.kits``.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from core.errors import DomainError
from core.shipping import pharmacy_today
from pumps.models import KitAlert, KitOrder, Pump, StandingOrder
from pumps.selectors import pumps_due_for_kit

from .alerts import kit_alert_raise, kits_check_late
from .cancel import kit_order_retire
from .orders import kit_order_create

__all__ = ["ScanResult", "kits_scan"]

Reason = KitAlert.Reason
Cycle = tuple[int, int | None]  # (pump id, current refill id)


@dataclass
class ScanResult:
    created: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)
    synced: list[int] = field(default_factory=list)


@dataclass
class _DuePumps:
    """What the scan knows about the due pumps before it looks at each."""

    have_kit: set[Cycle]
    cancelled: set[Cycle]
    standing: dict[int, StandingOrder]
    open_no_order: set[int]


def _scanned_pumps(pump_ids: list[int] | None, now: datetime) -> tuple[list[int], dict[int, Pump]]:
    """The ids of the due pumps, and every pump to look at: the due ones and the other ``pump_ids``.

    ``pump_ids`` narrows the scan to pumps whose schedule changed; those that are no longer due still
    have their kit orders' dates brought in step.
    """
    horizon = pharmacy_today(now) + timedelta(days=settings.KIT_ORDER_LEAD_DAYS)
    due = pumps_due_for_kit(ship_by_on_or_before=horizon)
    if pump_ids is not None:
        due = due.filter(pk__in=list(pump_ids))
    pumps = {p.pk: p for p in due}
    ids = list(pumps)
    if pump_ids:
        others = [pk for pk in pump_ids if pk not in pumps]
        if others:
            pumps.update({p.pk: p for p in Pump.objects.filter(pk__in=others)})
    return ids, pumps


def _live_kits(pumps: dict[int, Pump], now: datetime) -> tuple[list[KitOrder], set[Cycle]]:
    """The pumps' kit orders that still count (kits of an ended cycle are retired), and the cancelled cycles."""
    kits = list(KitOrder.objects.filter(pump_id__in=list(pumps)))
    # A cycle whose kit was cancelled (by the clinic, ``kit_order_cancel``) is not ordered again by itself.
    cancelled: set[Cycle] = {(k.pump_id, k.refill_id) for k in kits if k.status == KitOrder.Status.CANCELLED}
    kits = [k for k in kits if k.status != KitOrder.Status.CANCELLED]
    stale = [k for k in kits if k.status in KitOrder.PENDING and k.refill_id != pumps[k.pump_id].current_refill_id]
    for kit in stale:
        kit_order_retire(
            kit_order_id=kit.pk, now=now, reason="The pump was refilled (a new refill cycle) before this kit shipped."
        )
    return [k for k in kits if k not in stale], cancelled


def _sync_dates(kits: list[KitOrder], pumps: dict[int, Pump]) -> list[int]:
    changed = []
    for kit in kits:
        pump = pumps.get(kit.pump_id)
        if pump is None or kit.status not in KitOrder.PENDING or kit.refill_id != pump.current_refill_id:
            continue
        values = (pump.ship_by, pump.expected_delivery, pump.required_delivery)
        if (kit.ship_by, kit.expected_delivery, kit.required_delivery) != values:
            kit.ship_by, kit.expected_delivery, kit.required_delivery = values
            changed.append(kit)
    if changed:
        KitOrder.objects.bulk_update(changed, ["ship_by", "expected_delivery", "required_delivery"])
    return [k.pk for k in changed]


def _alert_pump(pump: Pump, reason: str, message: str, now: datetime) -> None:
    with transaction.atomic():
        kit_alert_raise(pump=pump, reason=reason, message=message, now=now)


def _scan_pump(pump: Pump, due: _DuePumps, result: ScanResult, now: datetime) -> None:
    """One due pump: nothing to do (it has its kit), order its standing order's kit, or alert."""
    pk = pump.pk
    cycle = (pk, pump.current_refill_id)
    if pump.current_refill_id is not None and cycle in due.cancelled and cycle not in due.have_kit:
        # The clinic's cancellation stands (no kit is ordered again by itself), but a due pump
        # without a kit is never silent: staff confirm the refill is covered and resolve this.
        if pk not in due.open_no_order:
            _alert_pump(
                pump,
                Reason.NO_ORDER,
                f"The clinic cancelled the kit for pump {pump} (must ship by {pump.ship_by}); no kit "
                "will ship for this refill cycle. Confirm the refill is covered another way, or "
                "order a kit now.",
                now,
            )
            result.alerted.append(pk)
        return
    if pump.current_refill_id is not None and (cycle in due.have_kit or cycle in due.cancelled):
        return
    order = due.standing.get(pk)
    if order is not None and pump.current_refill_id is not None:
        try:
            kit = kit_order_create(
                pump=pump,
                user=order.created_by,
                shipping=order.shipping,
                product=order.product,
                standing_order=order,
                now=now,
            )
        except (ValidationError, DomainError) as exc:
            text = (
                exc.message
                if isinstance(exc, DomainError)
                else "; ".join(m for msgs in exc.message_dict.values() for m in msgs)
            )
            _alert_pump(pump, Reason.NO_STOCK, f"The standing order could not order a kit: {text}", now)
            result.alerted.append(pk)
            return
        result.created.append(kit.pk)
    elif pk not in due.open_no_order:
        _alert_pump(
            pump,
            Reason.NO_ORDER,
            f"The kit for pump {pump} must ship by {pump.ship_by}, but there is no kit order and no "
            "standing order. Order a kit now.",
            now,
        )
        result.alerted.append(pk)


def kits_scan(*, pump_ids: list[int] | None = None, now: datetime | None = None) -> ScanResult:
    """Make the standing orders' kit orders for the pumps due within the lead time; alert the rest.

    Reads only the due pumps (indexed), in a constant number of queries; each kit order created
    costs its own few. ``pump_ids`` narrows the scan to pumps whose schedule changed (their kit
    orders' dates are brought in step even when they are no longer due).
    """
    now = now or timezone.now()
    ids, pumps = _scanned_pumps(pump_ids, now)
    result = ScanResult()
    kits, cancelled = _live_kits(pumps, now)
    result.synced = _sync_dates(kits, pumps)
    due = _DuePumps(
        have_kit={(k.pump_id, k.refill_id) for k in kits},
        cancelled=cancelled,
        standing={
            s.pump_id: s
            for s in StandingOrder.objects.filter(pump_id__in=ids, active=True).select_related("created_by", "product")
        },
        open_no_order=set(
            KitAlert.objects.filter(
                pump_id__in=ids, kit_order__isnull=True, reason=Reason.NO_ORDER, resolved_at__isnull=True
            ).values_list("pump_id", flat=True)
        ),
    )
    for pk in ids:
        _scan_pump(pumps[pk], due, result, now)
    kits_check_late(kit_ids=[k.pk for k in kits if k.status in KitOrder.PENDING] + result.created, now=now)
    return result
