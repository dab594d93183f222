"""Helpers for the gating and fulfilment tests: orders made without Stripe, patients and
prescriptions for the shop's products (plain functions; the ``owner``, ``patient`` and
``pharmacist`` fixtures built from them live in fixtures.py), two fulfilment hooks
(``SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS``) and a carrier that cannot be reached (``SHOP_CARRIER``)."""

import io
import itertools
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.utils import timezone

from catalog.models import Drug, PriceTier, Product, StockAllocation, StockLot
from catalog.services.stock import stock_reserve
from rx.models import Dispense, Prescription
from rx.services import prescriptions as rx_services
from rx.services.verification import pharmacist_group, prescription_approve
from shop.carriers import CarrierUnavailable, LocalCarrier
from shop.models import Order, OrderLine, OrderLinePrescription, Shipment
from shop.services.gating import order_prescription_gate
from shop.services.transitions import order_transition
from shop.state import OrderStatus
from tests.rx.factories import PatientFactory, PrescriberFactory

_n = itertools.count(1)


def make_user(*, name=None, pharmacist=False):
    n = next(_n)
    username = name or f"fshopper{n}"
    user = get_user_model().objects.create_user(
        username=username, email=f"{username}@example.com", password="pw-For-tests-1", is_staff=pharmacist
    )
    if pharmacist:
        user.groups.add(pharmacist_group())
    return user


def make_product(*, drug_name="Baclofen", rx_required=True, lots=((100, 365),), name=None) -> Product:
    """A 10 mg oral tablet of ``drug_name`` with lots of (quantity, days until expiry)."""
    n = next(_n)
    drug, _ = Drug.objects.get_or_create(
        name=drug_name, defaults={"slug": drug_name.lower(), "active_ingredient": drug_name.lower()}
    )
    ndc = f"{80000000000 + n:011d}"
    product = Product.objects.create(
        drug=drug,
        name=name or f"{drug_name} 10 mg #{n}",
        slug=f"f-{ndc}",
        ndc=ndc,
        manufacturer="LAB",
        strength=Decimal("10"),
        strength_unit="mg",
        dosage_form="tablet",
        route="oral",
        selling_unit="tablet",
        rx_required=rx_required,
    )
    PriceTier.objects.create(product=product, min_quantity=1, unit_price=Decimal("0.50"))
    for i, (quantity, days) in enumerate(lots):
        StockLot.objects.create(
            product=product,
            lot_number=f"L{n}-{i}",
            quantity_received=quantity,
            quantity_on_hand=quantity,
            expiry_date=timezone.localdate() + timedelta(days=days),
        )
    return product


def make_order(user, items: dict, *, status=OrderStatus.AWAITING_PRESCRIPTION_REVIEW) -> Order:
    """A paid order of ``{product: quantity}`` holding its stock, moved on to ``status``."""
    n = next(_n)
    total = sum(Decimal("0.50") * q for q in items.values())
    order = Order.objects.create(
        number=f"PH-F{n:07d}",
        user=user,
        email=user.email,
        shipping_name="Ada Lovelace",
        shipping_line1="1 Main St",
        shipping_city="Springfield",
        shipping_state="IL",
        shipping_postal_code="62701",
        currency="usd",
        subtotal=total,
        total=total,
    )
    for product, quantity in items.items():
        OrderLine.objects.create(
            order=order,
            product=product,
            product_name=product.name,
            ndc=product.ndc,
            rx_required=product.rx_required,
            unit_price=Decimal("0.50"),
            quantity=quantity,
            line_total=Decimal("0.50") * quantity,
        )
    stock_reserve(reference=order.stock_reference, lines=[(p.pk, q) for p, q in items.items()], ttl=None)
    order_transition(order=order, to=OrderStatus.PAID, actor="system")
    if status != OrderStatus.PAID:
        order_transition(order=order, to=status, actor="system")
    return order


def make_patient(user, **fields):
    return PatientFactory(account=user, date_of_birth=date(1980, 1, 1), **fields)


def make_rx(patient, product, *, user=None, source=Prescription.Source.CLINIC, **fields) -> Prescription:
    defaults = {
        "prescriber": PrescriberFactory(),
        "written_date": timezone.localdate(),
        "dose_amount": Decimal("10"),
        "dose_unit": "mg",
        "route": "oral",
        "times_per_day": Decimal("3"),
        "quantity": 90,
        "refills_authorized": 2,
        "days_supply": 30,
    }
    defaults.update(fields)
    return rx_services.prescription_create(user=user, patient=patient, source=source, product=product, **defaults)


def approve(rx, pharmacist) -> Prescription:
    rx.refresh_from_db()
    reasons = {f.code: "Checked with the prescriber." for f in rx.findings.all()}
    prescription_approve(prescription_id=rx.pk, pharmacist=pharmacist, overrides=reasons)
    rx.refresh_from_db()
    return rx


def link(order, rx, *, product=None, user=None):
    lines = order.lines.filter(rx_required=True)
    if product is not None:
        lines = lines.filter(product=product)
    for line in lines:
        OrderLinePrescription.objects.update_or_create(
            order_line=line, defaults={"prescription": rx, "linked_by": user}
        )


def ready_order(owner, patient, pharmacist, items, **rx_fields):
    """A paid order of ``items``, each prescription line covered by an approved prescription."""
    order = make_order(owner, items, status=OrderStatus.AWAITING_PRESCRIPTION_REVIEW)
    for product in items:
        if product.rx_required:
            link(order, approve(make_rx(patient, product, **rx_fields), pharmacist), product=product)
    assert order_prescription_gate(order=order, actor="system").status == OrderStatus.READY_TO_FULFIL
    return order


def png_file(name="rx.png"):
    """A small PNG as an upload (file object with a name)."""
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, format="PNG")
    buf.seek(0)
    buf.name = name
    return buf


# What ``note_allocation_hook`` saw, one dict per call (a test clears it first).
HOOK_CALLS: list[dict] = []


def note_allocation_hook(*, order, picks) -> None:
    """A fulfilment hook noting what was picked, allocated, dispensed and shipped when it was called."""
    HOOK_CALLS.append(
        {
            "order": order.pk,
            "picked": sorted((line.product_id, sum(a.quantity for a in allocations)) for line, allocations in picks),
            "allocated": sum(
                StockAllocation.objects.filter(reference=order.stock_reference).values_list("quantity", flat=True)
            ),
            "dispensed": Dispense.objects.filter(reference__startswith=order.stock_reference).count(),
            "shipments": Shipment.objects.filter(order=order).count(),
        }
    )


def failing_allocation_hook(*, order, picks) -> None:
    """A fulfilment hook that fails right after the allocation, as a worker dying there would."""
    raise RuntimeError(f"lost order {order.number} after allocating")


class UnreachableCarrier(LocalCarrier):
    """``SHOP_CARRIER`` for a test: packing works, booking the parcel fails as a carrier outage would."""

    def create_shipment(self, *, reference: str, shipment_id: int, address: dict, parcels: list[dict]) -> str:
        raise CarrierUnavailable(f"the carrier did not answer for {reference}")
