"""Helpers for the prescription tests (plain functions; fixtures are in conftest.py)."""

import io
from decimal import Decimal

from django.utils import timezone
from PIL import Image

from rx.models import Prescription
from rx.services import prescriptions as rx_services
from tests.rx.factories import PrescriberFactory


def make_rx(patient, product, *, user=None, source=Prescription.Source.CLINIC, **fields):
    """Create a transcribed prescription through the service (findings computed)."""
    defaults = {
        "prescriber": PrescriberFactory(),
        "written_date": timezone.localdate(),
        "dose_amount": Decimal("10"),
        "dose_unit": "mg",
        "route": product.route,
        "times_per_day": Decimal("3"),
        "quantity": 90,
        "refills_authorized": 2,
        "days_supply": 30,
    }
    defaults.update(fields)
    return rx_services.prescription_create(user=user, patient=patient, source=source, product=product, **defaults)


def approve(rx, pharmacist, **overrides):
    """Approve ``rx`` giving a reason for every finding (or the ones passed)."""
    from rx.services.verification import prescription_approve

    rx.refresh_from_db()
    reasons = overrides or {f.code: "Checked with the prescriber." for f in rx.findings.all()}
    prescription_approve(prescription_id=rx.pk, pharmacist=pharmacist, overrides=reasons)
    rx.refresh_from_db()
    return rx


def png_bytes(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


def jpeg_bytes(size=(8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (30, 200, 30)).save(buf, format="JPEG")
    return buf.getvalue()


PDF_BYTES = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)
