"""Helpers for the refill-kit tests: a kit product, a clinic with a due pump, an approved prescription."""

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from catalog.models import Drug, DrugRoute, PriceTier, Product, Route, StockLot
from rx.models import Prescription
from rx.services import prescriptions as rx_services
from rx.services.verification import pharmacist_group, prescription_approve
from tests.factories import PrescriberFactory, UserFactory
from tests.pumps.pump_fixtures import clinic_with_staff, make_pump, ny

SHIPPING = {"shipping_name": "Clinic A pharmacy desk", "shipping_line1": "1 Main St", "shipping_city": "Boston",
            "shipping_state": "MA", "shipping_postal_code": "02110"}
SHIP = {k.removeprefix("shipping_"): v for k, v in SHIPPING.items()}

# The seed example filled on Monday 6 January 2025: alarm on day 72 (19 March), ship-by early March.
FILLED = ny(2025, 1, 6, 10, 0)
BEFORE_DUE = ny(2025, 1, 10, 9, 0)   # ship-by more than KIT_ORDER_LEAD_DAYS away
DUE = ny(2025, 3, 1, 9, 0)           # within the lead time, before the ship-by day


def kit_product(*, stock: int = 10, concentration: str = "2000", ndc: str = "67457000099") -> Product:
    drug, _ = Drug.objects.get_or_create(name="Baclofen", defaults={"slug": "baclofen",
                                                                    "active_ingredient": "baclofen"})
    DrugRoute.objects.get_or_create(
        drug=drug, route=Route.INTRATHECAL,
        defaults={"dose_unit": "mcg", "max_daily_dose": Decimal("1000"), "min_age_years": 4})
    product = Product.objects.create(
        drug=drug, name=f"Baclofen intrathecal refill kit {concentration} mcg/mL, 20 mL", slug=f"kit-{ndc}", ndc=ndc,
        manufacturer="PHARMACY", strength=Decimal(concentration), strength_unit="mcg/mL",
        concentration_mcg_per_ml=Decimal(concentration), volume_ml=Decimal("20"), dosage_form="kit",
        route=Route.INTRATHECAL, selling_unit="kit", rx_required=True, is_refill_kit=True,
    )
    PriceTier.objects.create(product=product, min_quantity=1, unit_price=Decimal("450.00"))
    if stock:
        StockLot.objects.create(product=product, lot_number=f"KIT-{ndc}", quantity_received=stock,
                                quantity_on_hand=stock, expiry_date=timezone.localdate() + timedelta(days=365))
    return product


def due_pump(clinic=None, **kwargs):
    """The seed-example pump (ship-by in early March 2025) with an appointment on 12 March."""
    kwargs.setdefault("fill_at", FILLED)
    kwargs.setdefault("appointment_at", ny(2025, 3, 12, 9, 0))
    return make_pump(clinic, **kwargs)


def pharmacist():
    user = UserFactory(is_staff=True)
    user.groups.add(pharmacist_group())
    return user


def intrathecal_rx(patient, product, *, approve_by=None, routine=False) -> Prescription:
    """An intrathecal prescription for the kit (received; approved by ``approve_by`` if given).

    ``routine``: put it back to routine priority (rx queues intrathecal ones as urgent by itself),
    to show that a waiting kit order marks it urgent.
    """
    rx = rx_services.prescription_create(
        user=None, patient=patient, source=Prescription.Source.CLINIC, product=product,
        prescriber=PrescriberFactory(), written_date=timezone.localdate(), dose_amount=Decimal("500"),
        dose_unit="mcg", route=Route.INTRATHECAL, times_per_day=Decimal("1"), quantity=2, refills_authorized=5,
        days_supply=60,
    )
    if routine:
        Prescription.objects.filter(pk=rx.pk).update(priority=Prescription.Priority.ROUTINE, priority_reason="")
    if approve_by is not None:
        rx.refresh_from_db()
        prescription_approve(prescription_id=rx.pk, pharmacist=approve_by,
                             overrides={f.code: "Checked with the prescriber." for f in rx.findings.all()})
        rx.refresh_from_db()
    return rx


__all__ = ["SHIPPING", "SHIP", "FILLED", "BEFORE_DUE", "DUE", "kit_product", "due_pump", "pharmacist",
           "intrathecal_rx", "clinic_with_staff", "make_pump", "ny"]
