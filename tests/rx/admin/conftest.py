"""Fixtures of the rx admin tests: a signed-in pharmacist and a verification queue."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from rx.services.verification import prescription_request_information
from tests.rx.prescription_helpers import approve, make_rx


@pytest.fixture
def pharmacist_client(cast):
    client = Client()
    client.force_login(cast.pharmacist)
    return client


@pytest.fixture
def queue(clinical, cast):
    """Oldest routine, a newer urgent intrathecal one, one needing information, one approved."""
    now = timezone.now()
    old = make_rx(cast.patient_a, clinical.tablet, created_at=now - timedelta(days=2))
    urgent = make_rx(
        cast.patient_ca,
        clinical.vial,
        dose_amount=Decimal("500"),
        dose_unit="mcg",
        times_per_day=1,
        quantity=1,
        created_at=now - timedelta(hours=1),
    )
    waiting = make_rx(cast.patient_b, clinical.tablet, created_at=now - timedelta(days=1))
    prescription_request_information(prescription_id=waiting.pk, pharmacist=cast.pharmacist, message="Dose?")
    done = approve(make_rx(cast.patient_cb, clinical.tablet, created_at=now - timedelta(days=3)), cast.pharmacist)
    return {"old": old, "urgent": urgent, "waiting": waiting, "done": done}
