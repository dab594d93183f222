"""Helpers shared by the pumps tests: a clinic with staff, a patient, a pump with its history, a kit
product in stock, an intrathecal prescription, a pharmacist, an API client."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone
from rest_framework.test import APIClient

from catalog.models import Drug, DrugRoute, PriceTier, Product, Route, StockLot, StockReservation
from pumps.models import KitOrder
from pumps.services import pumps as pump_services
from rx.models import Prescription
from rx.services import prescriptions as rx_services
from rx.services.verification import pharmacist_group, prescription_approve
from shop.state import OrderStatus
from tests.core.factories import UserFactory
from tests.rx.factories import ClinicFactory, ClinicMemberFactory, PatientFactory, PrescriberFactory

NY = ZoneInfo("America/New_York")
UTC = ZoneInfo("UTC")


def ny(*args) -> datetime:
    return datetime(*args, tzinfo=NY).astimezone(UTC)


def on_day(day, hour=9) -> datetime:
    """``hour`` o'clock in New York on ``day``."""
    return ny(day.year, day.month, day.day, hour, 0)


def client_for(user=None) -> APIClient:
    """An API client signed in as ``user`` (anonymous if None)."""
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def clinic_with_staff(**kwargs):
    clinic = ClinicFactory(**kwargs)
    user = UserFactory()
    ClinicMemberFactory(clinic=clinic, user=user)
    return clinic, user


def clinic_patient(clinic):
    return PatientFactory(account=None, clinic=clinic)


def make_pump(
    clinic=None,
    *,
    serial=None,
    model="8637-20",
    alarm="2",
    fill_at=None,
    volume="20",
    conc="2000",
    dose="500",
    appointment_at=None,
    now=None,
    battery=None,
):
    """A pump with one program and one refill (the seed example by default), as of ``now``."""
    clinic = clinic or clinic_with_staff()[0]
    patient = clinic_patient(clinic)
    now = now or fill_at or ny(2025, 1, 6, 10, 0)
    make_pump.counter += 1
    pump = pump_services.pump_create(
        patient=patient,
        model=model,
        serial_number=serial or f"SN{make_pump.counter:06d}",
        alarm_volume_ml=Decimal(alarm),
        implanted_on=date(2024, 6, 1),
        battery_replacement_on=battery,
        now=now,
    )
    if fill_at is not None:
        pump_services.pump_program_set(
            pump=pump,
            daily_dose_mcg=Decimal(dose),
            concentration_mcg_per_ml=Decimal(conc),
            effective_at=fill_at,
            now=now,
        )
        pump_services.pump_refill_record(
            pump=pump,
            filled_at=fill_at,
            volume_filled_ml=Decimal(volume),
            concentration_mcg_per_ml=Decimal(conc),
            now=now,
        )
    if appointment_at is not None:
        pump_services.pump_appointment_set(pump=pump, scheduled_at=appointment_at, now=now)
    pump.refresh_from_db()
    return pump


make_pump.counter = 0


def days(n):
    return timedelta(days=n)


# Refill kits.

SHIPPING = {
    "shipping_name": "Clinic A pharmacy desk",
    "shipping_line1": "1 Main St",
    "shipping_city": "Boston",
    "shipping_state": "MA",
    "shipping_postal_code": "02110",
}
SHIP = {k.removeprefix("shipping_"): v for k, v in SHIPPING.items()}

# The seed example filled on Monday 6 January 2025: alarm on day 72 (19 March), ship-by early March.
FILLED = ny(2025, 1, 6, 10, 0)
BEFORE_DUE = ny(2025, 1, 10, 9, 0)  # ship-by more than KIT_ORDER_LEAD_DAYS away
DUE = ny(2025, 3, 1, 9, 0)  # within the lead time, before the ship-by day


def kit_product(*, stock: int = 10, concentration: str = "2000", ndc: str = "67457000099") -> Product:
    drug, _ = Drug.objects.get_or_create(
        name="Baclofen", defaults={"slug": "baclofen", "active_ingredient": "baclofen"}
    )
    DrugRoute.objects.get_or_create(
        drug=drug,
        route=Route.INTRATHECAL,
        defaults={"dose_unit": "mcg", "max_daily_dose": Decimal("1000"), "min_age_years": 4},
    )
    product = Product.objects.create(
        drug=drug,
        name=f"Baclofen intrathecal refill kit {concentration} mcg/mL, 20 mL",
        slug=f"kit-{ndc}",
        ndc=ndc,
        manufacturer="PHARMACY",
        strength=Decimal(concentration),
        strength_unit="mcg/mL",
        concentration_mcg_per_ml=Decimal(concentration),
        volume_ml=Decimal("20"),
        dosage_form="kit",
        route=Route.INTRATHECAL,
        selling_unit="kit",
        rx_required=True,
        is_refill_kit=True,
    )
    PriceTier.objects.create(product=product, min_quantity=1, unit_price=Decimal("450.00"))
    if stock:
        StockLot.objects.create(
            product=product,
            lot_number=f"KIT-{ndc}",
            quantity_received=stock,
            quantity_on_hand=stock,
            expiry_date=timezone.localdate() + timedelta(days=365),
        )
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
        user=None,
        patient=patient,
        source=Prescription.Source.CLINIC,
        product=product,
        prescriber=PrescriberFactory(),
        written_date=timezone.localdate(),
        dose_amount=Decimal("500"),
        dose_unit="mcg",
        route=Route.INTRATHECAL,
        times_per_day=Decimal("1"),
        quantity=2,
        refills_authorized=5,
        days_supply=60,
    )
    if routine:
        Prescription.objects.filter(pk=rx.pk).update(priority=Prescription.Priority.ROUTINE, priority_reason="")
    if approve_by is not None:
        rx.refresh_from_db()
        prescription_approve(
            prescription_id=rx.pk,
            pharmacist=approve_by,
            overrides={f.code: "Checked with the prescriber." for f in rx.findings.all()},
        )
        rx.refresh_from_db()
    return rx


def assert_nothing_cancelled(ordered):
    """The ``ordered_kit`` fixture's kit is as it was: scheduled, its order waiting, stock held, alert open."""
    ordered.kit.refresh_from_db()
    ordered.alert.refresh_from_db()
    assert ordered.kit.status == KitOrder.Status.SCHEDULED
    assert ordered.kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert StockReservation.objects.get(reference=ordered.kit.order.stock_reference).status == "active"
    assert ordered.alert.resolved_at is None


def pumps_with_ship_dates():
    """Three pumps of one clinic filled from 6 January 2025: kits to ship by 7 March, ~6 April and late June."""
    clinic, _ = clinic_with_staff()
    fill = ny(2025, 1, 6, 10, 0)
    early = make_pump(clinic, fill_at=fill)  # ship by 7 March
    late = make_pump(clinic, fill_at=fill + days(30))  # ship by ~6 April
    slow = make_pump(clinic, fill_at=fill, dose="100")  # 180-day limit: ship by late June
    return early, late, slow


CANCEL_REASON = "Appointment cancelled: the patient is in hospital elsewhere."
