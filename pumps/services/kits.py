"""Intrathecal pump refill kits: ordering, standing orders, the scan, dispatch and alerts.

A late kit can kill a patient (DOMAIN.md section 4), so nothing here fails quietly: every due
pump ends up with a kit order or an open ``KitAlert``, and every open alert escalates until it
is resolved by staff or by its cause going away.

- Ordering (``kit_order_create``): one ``KitOrder`` per pump and refill cycle (unique, created
  under a row lock on the pump), owning a shop ``Order`` with one line for the kit product. The
  stock is reserved through ``catalog.services.stock.stock_reserve`` under ``order.stock_reference``
  with no time limit (held until dispatch or cancel). Clinics are invoiced: the order goes straight
  to ``paid`` with an event "invoiced to the clinic account" (payment method ``invoice``), then
  through the prescription gate: ``ready_to_fulfil`` when ``rx.services.coverage.
  prescription_find_cover`` covers the line, otherwise ``awaiting_prescription_review`` with the
  patient's queued intrathecal prescriptions marked urgent (first in the pharmacist's queue).
- Standing orders (``kits_scan``): pumps whose kit must ship within ``KIT_ORDER_LEAD_DAYS``
  (``pumps.selectors.pumps_due_for_kit``, an indexed read, constant queries for the pumps that
  are not due) get their kit order made by the system; a due pump with neither kit order nor
  standing order raises a ``no_order`` alert. Run daily by beat and for the changed pumps on
  ``pump_schedule_changed``.
- Dispatch (``kits_dispatch``): on the ship-by day, a covered, ready kit is handed to
  ``shop.services.fulfilment.order_fulfil(order_id=)``; the kit is marked dispatched. What stops
  it (no stock, no approval, payment problem, fulfilment error) raises an alert, and so does a
  late kit or one that cannot arrive in time.
- Cancel (``kit_order_cancel``): clinic staff cancel a kit not yet dispatched, with a reason; its
  invoiced order is cancelled (stock released, nothing refunded), its alerts resolved; the scan does
  not order that refill cycle again by itself (the standing order carries on with the next cycle),
  but raises one ``no_order`` alert for the due pump so the gap is confirmed by a person.
- Alerts (``kit_alert_raise``, ``kit_alerts_escalate``, ``kit_alert_resolve``): at most one open
  alert per kit order (or due pump) and reason; e-mailed to the clinic (its address and staff) and
  the pharmacy staff when raised, then one level higher every ``KIT_ALERT_ESCALATE_HOURS`` with a
  louder subject and, from level 2, the ``KIT_ALERT_ESCALATION_EMAILS`` too. Every notice is
  recorded (``KitAlertEscalation``).
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog import pricing
from catalog.models import Product, Route
from catalog.services.stock import InsufficientStock, stock_reserve
from core.errors import Conflict, DomainError, NotFound
from pumps.models import Pump, RefillAppointment
from rx.models import Clinic, Prescription
from pumps.selectors import pumps_due_for_kit
from rx.services.coverage import prescription_find_cover
from rx.services.prescriptions import prescription_mark_urgent

from pumps.models import KitAlert, KitAlertEscalation, KitOrder, StandingOrder
from shop.models import Order, OrderEvent, OrderLine
from shop.state import CANCELLABLE, OrderStatus
from shop.services.checkout import SHIPPING_FIELDS, order_place
from shop.services.transitions import SYSTEM, actor_fields, order_get_locked, order_transition

log = logging.getLogger(__name__)

S = OrderStatus
PENDING = (KitOrder.Status.SCHEDULED, KitOrder.Status.FAILED)
PAYMENT_METHOD_INVOICE = "invoice"
Reason = KitAlert.Reason


def _now() -> datetime:
    return timezone.now()


def _today(now: datetime) -> date:
    """The pharmacy's calendar day at ``now`` (the pump's ship-by dates are in that calendar)."""
    return timezone.localtime(now, ZoneInfo(settings.PHARMACY_TIME_ZONE)).date()


# --- choosing the kit ---------------------------------------------------------------------

def _pump_concentration(pump: Pump) -> Decimal | None:
    """The concentration the pump is filled with: its current refill's, else its latest program's."""
    if pump.current_refill_id:
        return pump.current_refill.concentration_mcg_per_ml
    program = pump.programs.order_by("-effective_at", "-pk").first()
    return program.concentration_mcg_per_ml if program else None


def kit_product_for(*, pump: Pump, product: Product | None = None) -> tuple[Product, int]:
    """Return (kit product, quantity) for the pump: its concentration, enough volume for its reservoir."""
    concentration = _pump_concentration(pump)
    if product is None:
        if concentration is None:
            raise ValidationError({"pump": "The pump has no refill or program: its concentration is unknown."})
        product = (Product.objects.filter(is_refill_kit=True, is_active=True, route=Route.INTRATHECAL,
                                          concentration_mcg_per_ml=concentration)
                   .order_by("volume_ml", "pk").first())
        if product is None:
            raise ValidationError({"product": f"No refill kit is sold at {concentration} mcg/mL."})
    else:
        if not (product.is_refill_kit and product.is_active and product.route == Route.INTRATHECAL):
            raise ValidationError({"product": "Choose an active intrathecal refill kit."})
        if concentration is not None and product.concentration_mcg_per_ml != concentration:
            raise ValidationError({"product": f"The pump is filled at {concentration} mcg/mL; "
                                              f"this kit is {product.concentration_mcg_per_ml} mcg/mL."})
    volume = product.volume_ml or pump.reservoir_volume_ml
    quantity = max(1, math.ceil(pump.reservoir_volume_ml / volume))
    return product, quantity


# --- ordering -----------------------------------------------------------------------------

class KitOrderExists(Conflict):
    """The pump already has a kit order for its current refill cycle (``data["kit_order"]``)."""

    code = "kit_order_exists"


def _lock_pump(pump_id: int) -> Pump:
    return (Pump.objects.select_for_update(of=("self",))
            .select_related("patient__clinic", "current_refill").get(pk=pump_id))


def _validated_shipping(shipping: dict) -> dict:
    values = {f: str(shipping.get(f) or "").strip() for f in SHIPPING_FIELDS}
    values["country"] = (values["country"] or "US").upper()
    missing = [f for f in ("name", "line1", "city", "state", "postal_code") if not values[f]]
    if missing:
        raise ValidationError({f"shipping_{missing[0]}": "This field is required."})
    return values


def kit_order_create(*, pump: Pump, user, shipping: dict, appointment: RefillAppointment | None = None,
                     product: Product | None = None, standing_order: StandingOrder | None = None,
                     now: datetime | None = None) -> KitOrder:
    """Order a refill kit for the pump's current refill cycle (clinic staff, or a standing order).

    Clinic orders are all or nothing: no stock, no price or a kit already ordered for the cycle
    raise (409) and save nothing. Standing orders never give up silently: the kit order is kept
    without a shop order and a ``no_stock`` alert is raised; every dispatch run tries again.
    Returns the kit order (for a standing order, the existing one when the cycle already has one).
    """
    now = now or _now()
    standing = standing_order is not None
    ship = _validated_shipping(shipping)
    with transaction.atomic():
        locked = _lock_pump(pump.pk)
        if not locked.active:
            raise Conflict("This pump is no longer active.", code="pump_inactive")
        if locked.current_refill_id is None:
            raise ValidationError({"pump": "No refill is recorded for this pump yet: record the last refill first."})
        existing = (KitOrder.objects.filter(pump=locked, refill_id=locked.current_refill_id)
                    .exclude(status=KitOrder.Status.CANCELLED).first())
        if existing is not None:
            if standing:
                return existing
            raise KitOrderExists(f"A kit is already ordered for this pump's refill cycle (kit order {existing.pk}).",
                                 data={"kit_order": existing.pk})
        if appointment is None:
            appointment = (locked.appointments.filter(status=RefillAppointment.Status.SCHEDULED)
                           .order_by("scheduled_at").first())
        elif appointment.pump_id != locked.pk or appointment.status != RefillAppointment.Status.SCHEDULED:
            raise ValidationError({"appointment": "Choose a scheduled appointment of this pump."})
        kit_product, quantity = kit_product_for(pump=locked, product=product)
        kit = KitOrder(
            pump=locked, patient=locked.patient, clinic=locked.patient.clinic, refill_id=locked.current_refill_id,
            appointment=appointment, product=kit_product, quantity=quantity,
            source=KitOrder.Source.STANDING if standing else KitOrder.Source.CLINIC, standing_order=standing_order,
            ship_by=locked.ship_by, expected_delivery=locked.expected_delivery,
            required_delivery=locked.required_delivery,
            created_by=user if getattr(user, "is_authenticated", False) else None, created_at=now,
        )
        try:
            with transaction.atomic():
                kit.save()
        except IntegrityError:
            # The unique (pump, cycle) constraint: someone else made it (the pump lock makes this rare).
            existing = KitOrder.objects.filter(pump=locked, refill_id=locked.current_refill_id).exclude(
                status=KitOrder.Status.CANCELLED).first()
            if existing is None:
                raise
            if standing:
                return existing
            raise KitOrderExists("A kit is already ordered for this pump's refill cycle.",
                                 data={"kit_order": existing.pk}) from None
        _alerts_resolve(pump_id=locked.pk, kit_order_id=None, reasons=[Reason.NO_ORDER], now=now,
                        resolution=f"Kit order {kit.pk} created.")
        if standing:
            try:
                with transaction.atomic():
                    _order_place(kit=kit, user=user, shipping=ship, now=now)
            except (InsufficientStock, Conflict) as exc:
                kit.last_error = exc.message
                kit.save(update_fields=["last_error", "updated_at"])
                kit_alert_raise(pump=locked, kit_order=kit, reason=Reason.NO_STOCK, now=now,
                                message=f"The standing order could not place the kit order: {exc.message}")
        else:
            _order_place(kit=kit, user=user, shipping=ship, now=now)
    return kit


def _order_place(*, kit: KitOrder, user, shipping: dict, now: datetime) -> Order:
    """Create the kit's shop order (invoiced, stock held without expiry) and gate it. Call in a transaction."""
    # No TTL: a kit's stock is held until it is dispatched or the order is cancelled.
    order = order_place(
        user=user, email=getattr(kit.clinic, "email", "") or getattr(user, "email", "") or "",
        lines=[(kit.product, kit.quantity)], shipping=shipping, ttl=None, scheduled_dispatch=True, created_at=now,
        unpriced_hint="ask the pharmacy to price the kit",
        reason=f"Refill kit for pump {kit.pump_id} (kit order {kit.pk}); stock held until dispatch or cancel.",
    )
    order_transition(order=order, to=S.PAID, actor=user,
                     reason=f"Invoiced to the clinic account of {kit.clinic.name} (payment method "
                            f"{PAYMENT_METHOD_INVOICE}).")
    kit.order = order
    kit.last_error = ""
    kit.save(update_fields=["order", "last_error", "updated_at"])
    _alerts_resolve(kit_order_id=kit.pk, reasons=[Reason.NO_STOCK], now=now, resolution="Stock reserved.")
    _gate(kit=kit, order=order, actor=user, now=now)
    return order


def _covering_prescription(kit: KitOrder) -> Prescription | None:
    return prescription_find_cover(patient=kit.patient_id, product=kit.product, quantity=kit.quantity)


def _mark_queue_urgent(kit: KitOrder) -> list[int]:
    """Put the patient's queued intrathecal prescriptions first in the pharmacist's queue."""
    ids = list(Prescription.objects.filter(patient_id=kit.patient_id, status__in=Prescription.QUEUE_STATUSES)
               .filter(Q(route=Route.INTRATHECAL) | Q(product__route=Route.INTRATHECAL)
                       | Q(product__is_refill_kit=True) | Q(product=kit.product))
               .values_list("pk", flat=True))
    for pk in ids:
        prescription_mark_urgent(prescription_id=pk, reason=f"Pump refill kit waiting (kit order {kit.pk})")
    return ids


def _link_prescription(kit: KitOrder, order: Order) -> int | None:
    """Link the kit's line to the patient's prescription, as a shopper links theirs (shared gating).

    The covering one if any, else the newest queued or decided intrathecal one of the patient.
    """
    try:
        from shop.models import OrderLinePrescription
    except ImportError:  # fulfilment's link model not installed: the gate falls back to coverage alone
        return None
    line = order.lines.order_by("pk").first()
    link = OrderLinePrescription.objects.filter(order_line=line).first()
    if link is not None:
        return link.prescription_id
    cover = _covering_prescription(kit)
    target = cover or (Prescription.objects.filter(patient_id=kit.patient_id)
                       .filter(Q(route=Route.INTRATHECAL) | Q(product__route=Route.INTRATHECAL))
                       .exclude(status__in=[Prescription.Status.REJECTED, Prescription.Status.EXPIRED])
                       .order_by("-created_at", "-pk").first())
    if target is None:
        return None
    OrderLinePrescription.objects.create(order_line=line, prescription=target)
    return target.pk


def _gate(*, kit: KitOrder, order: Order, actor, now: datetime) -> None:
    """The prescription gate of a paid kit order: the same gate as every prescription order.

    paid -> awaiting_prescription_review, then ``gating.order_prescription_gate`` moves it to
    ready_to_fulfil once ``order_rx_covered`` (``rx.services.coverage``) covers the line.
    """
    from shop.services.gating import order_prescription_gate

    _link_prescription(kit, order)
    if order.status == S.PAID:
        order_transition(order=order, to=S.AWAITING_PRESCRIPTION_REVIEW, actor=SYSTEM,
                         reason="Pump refill kit: an approved intrathecal prescription must cover it (urgent).")
    if order.status == S.AWAITING_PRESCRIPTION_REVIEW:
        order_prescription_gate(order=order, actor=SYSTEM, reason="Covered by an approved intrathecal prescription.")
    if order.status == S.READY_TO_FULFIL:
        _alerts_resolve(kit_order_id=kit.pk, reasons=[Reason.NO_APPROVAL], now=now,
                        resolution="Prescription approved.")
    else:
        _mark_queue_urgent(kit)


def kit_order_gate(*, kit_order_id: int, now: datetime | None = None) -> KitOrder:
    """Re-check a waiting kit order against the patient's prescriptions; move it on once covered."""
    now = now or _now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).select_related("product", "clinic").get(pk=kit_order_id)
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            _gate(kit=kit, order=order, actor=SYSTEM, now=now)
    return kit


def kits_prescription_changed(*, prescription_id: int) -> list[int]:
    """A prescription changed: gate the patient's waiting kit orders (or mark it urgent if one waits)."""
    rx = Prescription.objects.filter(pk=prescription_id).first()
    if rx is None:
        return []
    waiting = list(KitOrder.objects.filter(patient_id=rx.patient_id, status__in=PENDING,
                                           order__status=S.AWAITING_PRESCRIPTION_REVIEW).values_list("pk", flat=True))
    for pk in waiting:
        kit_order_gate(kit_order_id=pk)
    return waiting


def standing_order_set(*, pump: Pump, user, shipping: dict, product: Product | None = None,
                       active: bool = True) -> StandingOrder:
    """Create or change the pump's standing kit order (clinic staff)."""
    ship = _validated_shipping(shipping)
    if product is not None:
        kit_product_for(pump=pump, product=product)
    standing, _ = StandingOrder.objects.update_or_create(
        pump=pump, defaults={"clinic_id": pump.patient.clinic_id, "product": product, "active": active,
                             "created_by": user, **{f"shipping_{f}": v for f, v in ship.items()}},
    )
    return standing


# --- the scan -----------------------------------------------------------------------------

@dataclass
class ScanResult:
    created: list[int] = field(default_factory=list)
    alerted: list[int] = field(default_factory=list)
    synced: list[int] = field(default_factory=list)


def _sync_dates(kits: list[KitOrder], pumps: dict[int, Pump]) -> list[int]:
    changed = []
    for kit in kits:
        pump = pumps.get(kit.pump_id)
        if pump is None or kit.status not in PENDING or kit.refill_id != pump.current_refill_id:
            continue
        values = (pump.ship_by, pump.expected_delivery, pump.required_delivery)
        if (kit.ship_by, kit.expected_delivery, kit.required_delivery) != values:
            kit.ship_by, kit.expected_delivery, kit.required_delivery = values
            changed.append(kit)
    if changed:
        KitOrder.objects.bulk_update(changed, ["ship_by", "expected_delivery", "required_delivery"])
    return [k.pk for k in changed]


def kits_scan(*, pump_ids: list[int] | None = None, now: datetime | None = None) -> ScanResult:
    """Make the standing orders' kit orders for the pumps due within the lead time; alert the rest.

    Reads only the due pumps (indexed), in a constant number of queries; each kit order created
    costs its own few. ``pump_ids`` narrows the scan to pumps whose schedule changed (their kit
    orders' dates are brought in step even when they are no longer due).
    """
    now = now or _now()
    today = _today(now)
    horizon = today + timedelta(days=settings.KIT_ORDER_LEAD_DAYS)
    due = pumps_due_for_kit(ship_by_on_or_before=horizon)
    if pump_ids is not None:
        due = due.filter(pk__in=list(pump_ids))
    pumps = {p.pk: p for p in due}
    ids = list(pumps)
    result = ScanResult()
    if pump_ids:
        others = [pk for pk in pump_ids if pk not in pumps]
        if others:
            pumps.update({p.pk: p for p in Pump.objects.filter(pk__in=others)})
    kits = list(KitOrder.objects.filter(pump_id__in=list(pumps)))
    # A cycle whose kit was cancelled (by the clinic, ``kit_order_cancel``) is not ordered again by itself.
    cancelled = {(k.pump_id, k.refill_id) for k in kits if k.status == KitOrder.Status.CANCELLED}
    kits = [k for k in kits if k.status != KitOrder.Status.CANCELLED]
    stale = [k for k in kits if k.status in PENDING and k.refill_id != pumps[k.pump_id].current_refill_id]
    for kit in stale:
        kit_order_retire(kit_order_id=kit.pk, now=now,
                         reason="The pump was refilled (a new refill cycle) before this kit shipped.")
    kits = [k for k in kits if k not in stale]
    result.synced = _sync_dates(kits, pumps)
    have_kit = {(k.pump_id, k.refill_id) for k in kits}
    skip = have_kit | cancelled
    standing = {s.pump_id: s for s in StandingOrder.objects.filter(pump_id__in=ids, active=True)
                .select_related("created_by", "product")}
    open_no_order = set(KitAlert.objects.filter(pump_id__in=ids, kit_order__isnull=True, reason=Reason.NO_ORDER,
                                                resolved_at__isnull=True).values_list("pump_id", flat=True))
    for pk in ids:
        pump = pumps[pk]
        cycle = (pk, pump.current_refill_id)
        if pump.current_refill_id is not None and cycle in cancelled and cycle not in have_kit:
            # The clinic's cancellation stands (no kit is ordered again by itself), but a due pump
            # without a kit is never silent: staff confirm the refill is covered and resolve this.
            if pk not in open_no_order:
                _alert_pump(pump, Reason.NO_ORDER,
                            f"The clinic cancelled the kit for pump {pump} (must ship by {pump.ship_by}); no kit "
                            "will ship for this refill cycle. Confirm the refill is covered another way, or "
                            "order a kit now.", now)
                result.alerted.append(pk)
            continue
        if pump.current_refill_id is not None and cycle in skip:
            continue
        order = standing.get(pk)
        if order is not None and pump.current_refill_id is not None:
            try:
                kit = kit_order_create(pump=pump, user=order.created_by, shipping=order.shipping,
                                       product=order.product, standing_order=order, now=now)
            except (ValidationError, DomainError) as exc:
                text = exc.message if isinstance(exc, DomainError) else "; ".join(
                    m for msgs in exc.message_dict.values() for m in msgs)
                _alert_pump(pump, Reason.NO_STOCK, f"The standing order could not order a kit: {text}", now)
                result.alerted.append(pk)
                continue
            result.created.append(kit.pk)
        elif pk not in open_no_order:
            _alert_pump(pump, Reason.NO_ORDER,
                        f"The kit for pump {pump} must ship by {pump.ship_by}, but there is no kit order and no "
                        "standing order. Order a kit now.", now)
            result.alerted.append(pk)
    kits_check_late(kit_ids=[k.pk for k in kits if k.status in PENDING] + result.created, now=now)
    return result


def _alert_pump(pump: Pump, reason: str, message: str, now: datetime) -> None:
    with transaction.atomic():
        kit_alert_raise(pump=pump, reason=reason, message=message, now=now)


def kits_check_late(*, kit_ids: list[int], now: datetime | None = None) -> list[int]:
    """Alert kits that are late or cannot arrive in time; close those alerts whose cause is gone."""
    now = now or _now()
    today = _today(now)
    alerted = []
    kits = KitOrder.objects.filter(pk__in=list(kit_ids)).select_related("pump", "clinic")
    for kit in kits:
        pump = kit.pump
        current = kit.refill_id == pump.current_refill_id
        pending = kit.status in PENDING
        deadline = pump.ship_by_deadline if current else None
        late = pending and kit.ship_by is not None and (
            today > kit.ship_by or (deadline is not None and now > deadline))
        cannot = pending and current and (
            pump.kit_feasible is False
            or (kit.expected_delivery and kit.required_delivery and kit.expected_delivery > kit.required_delivery)
            or (kit.expected_delivery and pump.next_appointment_at
                and kit.expected_delivery > _today(pump.next_appointment_at)))
        with transaction.atomic():
            for reason, is_bad, text in (
                (Reason.LATE, late, f"The kit had to ship by {kit.ship_by} and has not been dispatched."),
                (Reason.CANNOT_ARRIVE, cannot,
                 f"Expected delivery {kit.expected_delivery} is after the day it is needed "
                 f"({kit.required_delivery}). Ship by the fastest means or move the appointment."),
            ):
                if is_bad:
                    kit_alert_raise(pump=pump, kit_order=kit, reason=reason, message=text, now=now)
                    alerted.append(kit.pk)
                else:
                    _alerts_resolve(kit_order_id=kit.pk, reasons=[reason], now=now,
                                    resolution="No longer the case.")
    return alerted


# --- dispatch -----------------------------------------------------------------------------

def _order_fulfil(order_id: int):
    """Hand the order to the fulfilment engineer's service (a seam tests replace)."""
    from shop.services import fulfilment

    return fulfilment.order_fulfil(order_id=order_id)


def kits_dispatch(*, now: datetime | None = None) -> list[int]:
    """Dispatch every kit whose ship-by day has come; returns the ids dispatched."""
    now = now or _now()
    ids = list(KitOrder.objects.filter(status__in=PENDING, ship_by__lte=_today(now)).order_by("ship_by", "pk")
               .values_list("pk", flat=True))
    dispatched = []
    for pk in ids:
        try:
            if kit_order_dispatch(kit_order_id=pk, now=now).status == KitOrder.Status.DISPATCHED:
                dispatched.append(pk)
        except Exception:  # one kit's failure must not stop the others; it is alerted below
            log.exception("Dispatch of kit order %s failed", pk)
            with transaction.atomic():
                kit = KitOrder.objects.select_related("pump").get(pk=pk)
                kit_alert_raise(pump=kit.pump, kit_order=kit, reason=Reason.DISPATCH_FAILED, now=now,
                                message="The dispatch run failed unexpectedly; see the logs.")
    kits_check_late(kit_ids=ids, now=now)
    return dispatched


def kit_order_dispatch(*, kit_order_id: int, now: datetime | None = None) -> KitOrder:
    """Ship one kit: place its order if stock was short, gate it, fulfil it, or alert why not.

    Three steps. The checks run under the kit's row lock and commit; fulfilment then runs with
    no lock of ours held, because it commits step by step (so a killed worker never loses or
    double-ships the order) and books the carrier over HTTP; finally the kit records the outcome
    under its lock again. Every path that does not ship raises or keeps an alert.
    """
    now = now or _now()
    kit, order_id = _dispatch_prepare(kit_order_id=kit_order_id, now=now)
    if order_id is None:
        return kit
    try:
        _order_fulfil(order_id)
    except Exception as exc:  # noqa: BLE001 - any failure must be alerted, not lost
        log.exception("Fulfilment of kit order %s failed", kit_order_id)
        reason = Reason.NO_STOCK if isinstance(exc, InsufficientStock) else Reason.DISPATCH_FAILED
        message = getattr(exc, "message", "") or str(exc) or exc.__class__.__name__
        return _dispatch_record(kit_order_id=kit_order_id, now=now, error=(message, reason))
    return _dispatch_record(kit_order_id=kit_order_id, now=now)


def _dispatch_prepare(*, kit_order_id: int, now: datetime) -> tuple[KitOrder, int | None]:
    """Check and gate the kit under its lock; return the order id to fulfil, or None (nothing to do now)."""
    with transaction.atomic():
        kit = (KitOrder.objects.select_for_update(of=("self",))
               .select_related("pump", "clinic", "product", "standing_order__created_by").get(pk=kit_order_id))
        if kit.status not in PENDING:
            return kit, None
        if kit.refill_id != kit.pump.current_refill_id:
            return kit_order_retire(kit_order_id=kit.pk, now=now,
                                    reason="The pump was refilled (a new refill cycle) before this kit shipped."), None
        if kit.order_id is None:
            standing = kit.standing_order
            if standing is None:
                kit_alert_raise(pump=kit.pump, kit_order=kit, reason=Reason.NO_STOCK, now=now,
                                message="The kit has no order and no standing order to place it.")
                return kit, None
            try:
                with transaction.atomic():
                    _order_place(kit=kit, user=standing.created_by, shipping=standing.shipping, now=now)
            except (InsufficientStock, Conflict) as exc:
                kit_alert_raise(pump=kit.pump, kit_order=kit, reason=Reason.NO_STOCK, now=now,
                                message=f"No stock for the kit: {exc.message}")
                return kit, None
        order = order_get_locked(order_id=kit.order_id)
        if order.status in (S.PAID, S.AWAITING_PRESCRIPTION_REVIEW):
            _gate(kit=kit, order=order, actor=SYSTEM, now=now)
        if order.status == S.AWAITING_PRESCRIPTION_REVIEW:
            kit_alert_raise(pump=kit.pump, kit_order=kit, reason=Reason.NO_APPROVAL, now=now,
                            message="The kit cannot ship: no approved intrathecal prescription covers it. "
                                    "The patient's prescriptions are first in the pharmacist's queue.")
            return kit, None
        if order.status in (S.PENDING_PAYMENT, S.PAYMENT_FAILED):
            kit_alert_raise(pump=kit.pump, kit_order=kit, reason=Reason.PAYMENT_PROBLEM, now=now,
                            message=f"The kit's order {order.number} is not paid ({order.get_status_display()}).")
            return kit, None
        if order.status in (S.CANCELLED, S.EXPIRED, S.REFUNDED):
            _kit_failed(kit, f"The kit's order {order.number} is {order.get_status_display().lower()}.",
                        Reason.PAYMENT_PROBLEM if order.status == S.REFUNDED else Reason.DISPATCH_FAILED, now)
            return kit, None
    # Ready (or an interrupted fulfilment to finish); shipped or delivered is simply recorded next.
    return kit, order.pk


def _dispatch_record(*, kit_order_id: int, now: datetime, error: tuple[str, str] | None = None) -> KitOrder:
    """Record under the kit's lock what fulfilment achieved: dispatched, or failed with an alert."""
    with transaction.atomic():
        kit = (KitOrder.objects.select_for_update(of=("self",))
               .select_related("pump", "clinic", "product").get(pk=kit_order_id))
        if kit.status not in PENDING:
            return kit
        order = Order.objects.get(pk=kit.order_id)
        if error is not None:
            _kit_failed(kit, error[0], error[1], now)
        elif order.status in (S.SHIPPED, S.DELIVERED):
            kit.status = KitOrder.Status.DISPATCHED
            kit.dispatched_at = now
            kit.last_error = ""
            kit.save(update_fields=["status", "dispatched_at", "last_error", "updated_at"])
            _alerts_resolve(kit_order_id=kit.pk, reasons=None, now=now, resolution="Kit dispatched.")
        else:
            # Still fulfilling (no usable stock) or sent back to prescription review: not shipped.
            _kit_failed(kit, f"Fulfilment left order {order.number} {order.get_status_display().lower()}.",
                        Reason.NO_STOCK if order.status == S.FULFILLING else Reason.DISPATCH_FAILED, now)
    return kit


def _kit_failed(kit: KitOrder, error: str, reason: str, now: datetime) -> None:
    kit.status = KitOrder.Status.FAILED
    kit.last_error = error
    kit.save(update_fields=["status", "last_error", "updated_at"])
    kit_alert_raise(pump=kit.pump, kit_order=kit, reason=reason, now=now, message=f"The kit could not ship: {error}")


def kit_order_mark_shipped(*, order_id: int, now: datetime | None = None) -> KitOrder | None:
    """The kit's order shipped (by the dispatch or any other path): the kit is dispatched. Idempotent."""
    now = now or _now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).filter(order_id=order_id).first()
        if kit is None or kit.status not in PENDING:
            return kit
        kit.status = KitOrder.Status.DISPATCHED
        kit.dispatched_at = now
        kit.last_error = ""
        kit.save(update_fields=["status", "dispatched_at", "last_error", "updated_at"])
        _alerts_resolve(kit_order_id=kit.pk, reasons=None, now=now, resolution="Kit dispatched.")
    return kit


def kit_order_retire(*, kit_order_id: int, reason: str, now: datetime | None = None) -> KitOrder:
    """Cancel a kit not yet shipped whose refill cycle is over (the pump was refilled without it).

    Its invoiced order is cancelled (no card was charged, so nothing is refunded; the stock hold is
    released) and its alerts are closed. The pump's new cycle gets its own kit or alert.
    """
    now = now or _now()
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).get(pk=kit_order_id)
        if kit.status not in PENDING:
            return kit
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            if order.status in (S.FULFILLING, S.SHIPPED, S.DELIVERED):
                return kit
            if order.status in CANCELLABLE:
                order_transition(order=order, to=S.CANCELLED, actor=SYSTEM, reason=f"Invoice voided: {reason}")
        kit.status = KitOrder.Status.CANCELLED
        kit.last_error = reason
        kit.save(update_fields=["status", "last_error", "updated_at"])
        _alerts_resolve(kit_order_id=kit.pk, reasons=None, now=now, resolution=reason)
    return kit


class KitOrderNotCancellable(Conflict):
    """The kit has shipped, is being packed, or is cancelled already (``data["status"]``, the kit's status)."""

    code = "kit_order_not_cancellable"


def kit_order_cancel(*, kit_order_id: int, user, reason: str, now: datetime | None = None) -> KitOrder:
    """Clinic staff cancel a kit not yet dispatched, saying why.

    Under the kit's row lock: a dispatched or cancelled (retired) kit, or one whose order fulfilment
    has started, is refused with ``KitOrderNotCancellable`` (409, ``data["status"]``). Otherwise the
    shop order is cancelled through ``orders.order_cancel`` as the user, with the reason (its
    ``OrderEvent``; the stock hold is released; kit orders are invoiced, with no Stripe payment, so
    nothing is refunded: the invoice is voided), the kit becomes ``cancelled`` and its open alerts
    are resolved by the user with the reason. Anyone but the kit's clinic staff gets NotFound.

    Only this kit is cancelled: a standing order stays active and orders the next cycle's kit.
    For this refill cycle the clinic's cancellation stands: ``kits_scan`` does not order it again,
    but raises one ``no_order`` alert for the due pump, so a person confirms the refill is covered
    another way (the clinic may still order a kit for the cycle by hand).
    """
    from rx import access

    from shop.services.orders import order_cancel

    now = now or _now()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the kit is cancelled."})
    with transaction.atomic():
        kit = KitOrder.objects.select_for_update(of=("self",)).filter(pk=kit_order_id).first()
        if kit is None or kit.clinic_id not in access.clinic_ids_of(user):
            raise NotFound("Kit order not found.")
        if kit.status not in PENDING:
            raise KitOrderNotCancellable(f"Kit order {kit.pk} is {kit.get_status_display().lower()}; "
                                         "it cannot be cancelled.", data={"status": kit.status})
        if kit.order_id:
            order = order_get_locked(order_id=kit.order_id)
            if order.status in CANCELLABLE:
                order_cancel(order=order, actor=user,
                             reason=f"Invoice voided: refill kit cancelled by the clinic: {reason}")
            elif order.status not in (S.CANCELLED, S.EXPIRED):
                raise KitOrderNotCancellable(
                    f"Kit order {kit.pk}'s order {order.number} is {order.get_status_display().lower()}; "
                    "it cannot be cancelled.", data={"status": kit.status, "order_status": order.status})
        _, label = actor_fields(user)
        kit.status = KitOrder.Status.CANCELLED
        kit.last_error = f"Cancelled by {label}: {reason}"
        kit.save(update_fields=["status", "last_error", "updated_at"])
        KitAlert.objects.filter(kit_order_id=kit.pk, resolved_at__isnull=True).update(
            resolved_at=now, resolved_by=user, resolution=f"Kit cancelled by the clinic: {reason}")
    return kit


def order_is_refill_kit(*, order_id: int) -> bool:
    """For fulfilment: kit orders are shipped by the kit dispatch on their ship-by day, not at once."""
    return KitOrder.objects.filter(order_id=order_id).exists()


# --- alerts -------------------------------------------------------------------------------

def _recipients(clinic: Clinic, level: int) -> list[str]:
    emails = [clinic.email] if clinic.email else []
    emails += [u.email for u in clinic.staff.filter(is_active=True).exclude(email="").order_by("pk")]
    emails += list(settings.PHARMACY_STAFF_EMAILS)
    if level >= 2:
        emails += list(settings.KIT_ALERT_ESCALATION_EMAILS)
    return list(dict.fromkeys(e for e in emails if e))


def _subject(alert: KitAlert, level: int) -> str:
    what = f"{alert.get_reason_display()} - pump {alert.pump_id}"
    if alert.kit_order_id:
        what += f", kit order {alert.kit_order_id}"
    if level == 0:
        return f"Refill kit alert: {what}"
    if level == 1:
        return f"URGENT refill kit alert (unresolved): {what}"
    return f"CRITICAL - ESCALATION {level}: refill kit alert still unresolved: {what}"


def _notify(alert: KitAlert, level: int, now: datetime) -> None:
    """Record the notice for ``level`` and send it after the commit."""
    recipients = _recipients(alert.clinic, level)
    subject = _subject(alert, level)
    KitAlertEscalation.objects.create(alert=alert, level=level, recipients=recipients, subject=subject, created_at=now)
    body = (f"{alert.message}\n\nClinic: {alert.clinic.name}\nPump: {alert.pump_id}\n"
            f"Opened: {alert.opened_at:%Y-%m-%d %H:%M %Z}. Escalation level {level}.\n\n"
            "Abrupt discontinuation of intrathecal baclofen can be fatal. This alert escalates every "
            f"{settings.KIT_ALERT_ESCALATE_HOURS:g} hours until someone resolves it in the back office.")

    def send():
        try:
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL,
                      recipient_list=recipients)
        except Exception:  # the next escalation sends again; the notice is recorded either way
            log.exception("Could not send kit alert %s level %s", alert.pk, level)

    if recipients:
        transaction.on_commit(send)


def kit_alert_raise(*, pump: Pump, reason: str, message: str, kit_order: KitOrder | None = None,
                    now: datetime | None = None) -> tuple[KitAlert, bool]:
    """Open an alert (and notify level 0) unless the same one is open already. Returns (alert, created)."""
    now = now or _now()
    open_alerts = KitAlert.objects.filter(pump_id=pump.pk, reason=reason, resolved_at__isnull=True)
    open_alerts = open_alerts.filter(kit_order=kit_order) if kit_order else open_alerts.filter(kit_order__isnull=True)
    existing = open_alerts.first()
    if existing:
        return existing, False
    clinic_id = kit_order.clinic_id if kit_order else pump.patient.clinic_id
    alert = KitAlert(pump_id=pump.pk, kit_order=kit_order, clinic_id=clinic_id, reason=reason, message=message,
                     opened_at=now, last_escalated_at=now)
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        existing = open_alerts.first()
        if existing is None:
            raise
        return existing, False
    _notify(alert, 0, now)
    return alert, True


def kit_alert_resolve(*, alert_id: int, user=None, resolution: str = "", now: datetime | None = None) -> KitAlert:
    """Close an alert (staff); it stops escalating. Closing a closed alert changes nothing."""
    now = now or _now()
    with transaction.atomic():
        try:
            alert = KitAlert.objects.select_for_update().get(pk=alert_id)
        except KitAlert.DoesNotExist:
            raise NotFound("Alert not found.") from None
        if alert.resolved_at is None:
            alert.resolved_at = now
            alert.resolved_by = user if getattr(user, "is_authenticated", False) else None
            alert.resolution = resolution or "Resolved by staff."
            alert.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return alert


def _alerts_resolve(*, now: datetime, resolution: str, reasons=None, kit_order_id: int | None = None,
                    pump_id: int | None = None) -> int:
    """Close the open alerts whose cause is gone (of a kit order, or a pump's pump-level ones)."""
    qs = KitAlert.objects.filter(resolved_at__isnull=True)
    if kit_order_id is not None:
        qs = qs.filter(kit_order_id=kit_order_id)
    else:
        qs = qs.filter(pump_id=pump_id, kit_order__isnull=True)
    if reasons is not None:
        qs = qs.filter(reason__in=list(reasons))
    return qs.update(resolved_at=now, resolution=resolution)


def kit_alerts_escalate(*, now: datetime | None = None) -> list[int]:
    """Raise every open alert not escalated for ``KIT_ALERT_ESCALATE_HOURS`` one level; returns their ids."""
    now = now or _now()
    cutoff = now - timedelta(hours=settings.KIT_ALERT_ESCALATE_HOURS)
    escalated = []
    for alert in KitAlert.objects.filter(resolved_at__isnull=True, last_escalated_at__lte=cutoff).select_related(
            "clinic").order_by("pk"):
        with transaction.atomic():
            # Conditional UPDATE: two runs at once escalate an alert once.
            if not KitAlert.objects.filter(pk=alert.pk, level=alert.level, resolved_at__isnull=True,
                                           last_escalated_at__lte=cutoff).update(level=alert.level + 1,
                                                                                 last_escalated_at=now):
                continue
            alert.level += 1
            alert.last_escalated_at = now
            _notify(alert, alert.level, now)
        escalated.append(alert.pk)
    return escalated
