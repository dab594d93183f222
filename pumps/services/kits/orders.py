"""Ordering refill kits: the kit for a pump, the kit order and its invoiced shop order, standing orders.

One ``KitOrder`` per pump and refill cycle, created under a row lock on the pump; its shop order is
invoiced to the clinic (``paid`` at once) and goes through the prescription gate (``gating``).
See ``pumps.services.kits``.
"""

import math
from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Product, Route
from catalog.services.stock import InsufficientStock
from core.errors import Conflict
from pumps.models import KitAlert, KitOrder, Pump, RefillAppointment, StandingOrder
from rx.models import Clinic
from shop.models import Order
from shop.services.checkout import SHIPPING_FIELDS, order_place
from shop.services.transitions import order_transition
from shop.state import OrderStatus

from . import KitOrderExists
from .alerts import kit_alert_raise, kit_alerts_close
from .gating import kit_prescription_gate

if TYPE_CHECKING:
    from django.contrib.auth.models import User

__all__ = [
    "PAYMENT_METHOD_INVOICE",
    "kit_product_for",
    "validated_shipping",
    "kit_order_create",
    "clinic_kit_order_create",
    "kit_order_place",
    "standing_order_set",
]

S = OrderStatus
PAYMENT_METHOD_INVOICE = "invoice"
Reason = KitAlert.Reason


def _pump_concentration(pump: Pump) -> Decimal | None:
    """The concentration the pump is filled with: its current refill's, else its latest program's."""
    if pump.current_refill is not None:
        return pump.current_refill.concentration_mcg_per_ml
    program = pump.programs.order_by("-effective_at", "-pk").first()
    return program.concentration_mcg_per_ml if program else None


def kit_product_for(*, pump: Pump, product: Product | None = None) -> tuple[Product, int]:
    """Return (kit product, quantity) for the pump: its concentration, enough volume for its reservoir."""
    concentration = _pump_concentration(pump)
    if product is None:
        if concentration is None:
            raise ValidationError({"pump": "The pump has no refill or program: its concentration is unknown."})
        product = (
            Product.objects.filter(
                is_refill_kit=True, is_active=True, route=Route.INTRATHECAL, concentration_mcg_per_ml=concentration
            )
            .order_by("volume_ml", "pk")
            .first()
        )
        if product is None:
            raise ValidationError({"product": f"No refill kit is sold at {concentration} mcg/mL."})
    else:
        if not (product.is_refill_kit and product.is_active and product.route == Route.INTRATHECAL):
            raise ValidationError({"product": "Choose an active intrathecal refill kit."})
        if concentration is not None and product.concentration_mcg_per_ml != concentration:
            raise ValidationError(
                {
                    "product": f"The pump is filled at {concentration} mcg/mL; "
                    f"this kit is {product.concentration_mcg_per_ml} mcg/mL."
                }
            )
    volume = product.volume_ml or pump.reservoir_volume_ml
    quantity = max(1, math.ceil(pump.reservoir_volume_ml / volume))
    return product, quantity


def _lock_pump(pump_id: int) -> Pump:
    return (
        Pump.objects.select_for_update(of=("self",)).select_related("patient__clinic", "current_refill").get(pk=pump_id)
    )


def validated_shipping(shipping: Mapping[str, object]) -> dict[str, str]:
    """The kit's delivery address from ``shipping`` (keys ``SHIPPING_FIELDS``), trimmed; the country defaults to US."""
    values = {f: str(shipping.get(f) or "").strip() for f in SHIPPING_FIELDS}
    values["country"] = (values["country"] or "US").upper()
    missing = [f for f in ("name", "line1", "city", "state", "postal_code") if not values[f]]
    if missing:
        raise ValidationError({f"shipping_{missing[0]}": "This field is required."})
    return values


def _cycle_kit(pump: Pump) -> KitOrder | None:
    """The live (not cancelled) kit order of the pump's current refill cycle."""
    return (
        KitOrder.objects.filter(pump=pump, refill_id=pump.current_refill_id)
        .exclude(status=KitOrder.Status.CANCELLED)
        .first()
    )


def _kit_appointment(pump: Pump, appointment: RefillAppointment | None) -> RefillAppointment | None:
    """The appointment the kit is for: the one given (a scheduled one of this pump), else the next scheduled."""
    if appointment is None:
        return pump.appointments.filter(status=RefillAppointment.Status.SCHEDULED).order_by("scheduled_at").first()
    if appointment.pump_id != pump.pk or appointment.status != RefillAppointment.Status.SCHEDULED:
        raise ValidationError({"appointment": "Choose a scheduled appointment of this pump."})
    return appointment


def _new_kit(
    pump: Pump,
    *,
    refill_id: int,
    user: "User",
    appointment: RefillAppointment | None,
    product: Product | None,
    standing_order: StandingOrder | None,
    now: datetime,
) -> KitOrder:
    """The (unsaved) kit order of the pump's current cycle (``refill_id``), with the pump's shipping dates."""
    kit_product, quantity = kit_product_for(pump=pump, product=product)
    return KitOrder(
        pump=pump,
        patient=pump.patient,
        clinic=pump.patient.clinic,
        refill_id=refill_id,
        appointment=appointment,
        product=kit_product,
        quantity=quantity,
        source=KitOrder.Source.STANDING if standing_order is not None else KitOrder.Source.CLINIC,
        standing_order=standing_order,
        ship_by=pump.ship_by,
        expected_delivery=pump.expected_delivery,
        required_delivery=pump.required_delivery,
        created_by=user if getattr(user, "is_authenticated", False) else None,
        created_at=now,
    )


def _save_new_kit(kit: KitOrder, pump: Pump, *, standing: bool) -> KitOrder:
    """Save the kit; if the cycle got one meanwhile, a standing order takes that one, a clinic is refused."""
    try:
        with transaction.atomic():
            kit.save()
    except IntegrityError:
        # The unique (pump, cycle) constraint: someone else made it (the pump lock makes this rare).
        existing = _cycle_kit(pump)
        if existing is None:
            raise
        if standing:
            return existing
        raise KitOrderExists(
            "A kit is already ordered for this pump's refill cycle.", data={"kit_order": existing.pk}
        ) from None
    return kit


def _standing_order_place(*, kit: KitOrder, pump: Pump, user: "User", shipping: dict[str, str], now: datetime) -> None:
    """Place a standing order's kit order; without stock (or price) keep the kit order and alert ``no_stock``."""
    try:
        with transaction.atomic():
            kit_order_place(kit=kit, user=user, shipping=shipping, now=now)
    except (InsufficientStock, Conflict) as exc:
        kit.last_error = exc.message
        kit.save(update_fields=["last_error", "updated_at"])
        kit_alert_raise(
            pump=pump,
            kit_order=kit,
            reason=Reason.NO_STOCK,
            now=now,
            message=f"The standing order could not place the kit order: {exc.message}",
        )


def kit_order_create(
    *,
    pump: Pump,
    user: "User",
    shipping: Mapping[str, object],
    appointment: RefillAppointment | None = None,
    product: Product | None = None,
    standing_order: StandingOrder | None = None,
    now: datetime | None = None,
) -> KitOrder:
    """Order a refill kit for the pump's current refill cycle (clinic staff, or a standing order).

    Clinic orders are all or nothing: no stock, no price or a kit already ordered for the cycle
    raise (409) and save nothing. Standing orders never give up silently: the kit order is kept
    without a shop order and a ``no_stock`` alert is raised; every dispatch run tries again.
    Returns the kit order (for a standing order, the existing one when the cycle already has one).
    """
    now = now or timezone.now()
    standing = standing_order is not None
    ship = validated_shipping(shipping)
    with transaction.atomic():
        locked = _lock_pump(pump.pk)
        if not locked.active:
            raise Conflict("This pump is no longer active.", code="pump_inactive")
        if locked.current_refill_id is None:
            raise ValidationError({"pump": "No refill is recorded for this pump yet: record the last refill first."})
        existing = _cycle_kit(locked)
        if existing is not None:
            if standing:
                return existing
            raise KitOrderExists(
                f"A kit is already ordered for this pump's refill cycle (kit order {existing.pk}).",
                data={"kit_order": existing.pk},
            )
        appointment = _kit_appointment(locked, appointment)
        kit = _new_kit(
            locked,
            refill_id=locked.current_refill_id,
            user=user,
            appointment=appointment,
            product=product,
            standing_order=standing_order,
            now=now,
        )
        saved = _save_new_kit(kit, locked, standing=standing)
        if saved is not kit:
            return saved
        kit_alerts_close(
            pump_id=locked.pk,
            kit_order_id=None,
            reasons=[Reason.NO_ORDER],
            now=now,
            resolution=f"Kit order {kit.pk} created.",
        )
        if standing:
            _standing_order_place(kit=kit, pump=locked, user=user, shipping=ship, now=now)
        else:
            kit_order_place(kit=kit, user=user, shipping=ship, now=now)
    return kit


def clinic_kit_order_create(
    *,
    clinic: Clinic,
    user: "User",
    pump_id: int,
    shipping: Mapping[str, object],
    appointment_id: int | None = None,
    product_ndc: str = "",
) -> KitOrder:
    """Order a kit for one of the clinic's pumps named by id (the API), with an appointment and a kit by NDC.

    Ids outside the clinic (another clinic's pump, another pump's appointment) or an unknown NDC are
    a ValidationError naming the field.
    """
    pump = Pump.objects.filter(pk=pump_id, patient__clinic=clinic).select_related("patient").first()
    if pump is None:
        raise ValidationError({"pump": ["No such pump at this clinic."]})
    appointment = None
    if appointment_id:
        appointment = RefillAppointment.objects.filter(pk=appointment_id, pump=pump).first()
        if appointment is None:
            raise ValidationError({"appointment": ["No such appointment for this pump."]})
    product = None
    if product_ndc:
        product = Product.objects.filter(ndc="".join(c for c in product_ndc if c.isdigit())).first()
        if product is None:
            raise ValidationError({"product": ["No product with this NDC."]})
    return kit_order_create(pump=pump, user=user, shipping=shipping, appointment=appointment, product=product)


def kit_order_place(*, kit: KitOrder, user: "User", shipping: dict[str, str], now: datetime) -> Order:
    """Create the kit's shop order (invoiced, stock held without expiry) and gate it. Call in a transaction."""
    # No TTL: a kit's stock is held until it is dispatched or the order is cancelled.
    order = order_place(
        user=user,
        email=getattr(kit.clinic, "email", "") or getattr(user, "email", "") or "",
        lines=[(kit.product, kit.quantity)],
        shipping=shipping,
        ttl=None,
        scheduled_dispatch=True,
        created_at=now,
        unpriced_hint="ask the pharmacy to price the kit",
        reason=f"Refill kit for pump {kit.pump_id} (kit order {kit.pk}); stock held until dispatch or cancel.",
    )
    order_transition(
        order=order,
        to=S.PAID,
        actor=user,
        reason=f"Invoiced to the clinic account of {kit.clinic.name} (payment method {PAYMENT_METHOD_INVOICE}).",
    )
    kit.order = order
    kit.last_error = ""
    kit.save(update_fields=["order", "last_error", "updated_at"])
    kit_alerts_close(kit_order_id=kit.pk, reasons=[Reason.NO_STOCK], now=now, resolution="Stock reserved.")
    kit_prescription_gate(kit=kit, order=order, now=now)
    return order


def standing_order_set(
    *, pump: Pump, user: "User", shipping: Mapping[str, object], product: Product | None = None, active: bool = True
) -> StandingOrder:
    """Create or change the pump's standing kit order (clinic staff)."""
    ship = validated_shipping(shipping)
    if product is not None:
        kit_product_for(pump=pump, product=product)
    standing, _ = StandingOrder.objects.update_or_create(
        pump=pump,
        defaults={
            "clinic_id": pump.clinic_id,
            "product": product,
            "active": active,
            "created_by": user,
            **{f"shipping_{f}": v for f, v in ship.items()},
        },
    )
    return standing
