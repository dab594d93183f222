"""The prescriptions API: what a shopper sees of their prescription, list query counts, patient validation."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from rx.models import Patient
from rx.services.verification import prescription_reject
from tests.rx.prescription_helpers import make_rx

pytestmark = pytest.mark.django_db


@pytest.fixture
def api(cast):
    client = APIClient()
    client.force_authenticate(cast.shopper_a)
    return client


def test_detail_shows_status_findings_and_the_rejection_reason(clinical, cast, api):
    rx = make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"))
    prescription_reject(prescription_id=rx.pk, pharmacist=cast.pharmacist, reason="Dose too high; ask your doctor.")
    body = api.get(f"/api/v1/prescriptions/{rx.pk}/").json()
    assert body["status"] == "rejected"
    assert body["message"] == "Dose too high; ask your doctor."
    assert body["findings"][0]["code"] == "HD" and body["findings"][0]["severity"] == "high"
    assert body["product"]["ndc"] == "00832-1024-00"
    assert body["directions"]["times_per_day"] == "3.000" and body["priority"] == "routine"
    assert body["prescriber"] == {"name": "Dr Ann Smith", "practice": "Smith Neurology", "npi": "1234567893"}
    assert "override_reason" not in body["findings"][0]


def fresh_client(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))  # no per-user caches carried over
    return client


def test_list_queries_do_not_grow_with_the_number_of_prescriptions(clinical, cast):
    make_rx(cast.patient_a, clinical.tablet, dose_amount=Decimal("30"))
    with CaptureQueriesContext(connection) as one:
        assert fresh_client(cast.shopper_a).get("/api/v1/prescriptions/").status_code == 200
    for _ in range(4):
        make_rx(cast.patient_a, clinical.vial, dose_amount=Decimal("500"), dose_unit="mcg", times_per_day=1, quantity=1)
    with CaptureQueriesContext(connection) as five:
        assert len(fresh_client(cast.shopper_a).get("/api/v1/prescriptions/").json()["results"]) == 5
    assert len(five.captured_queries) == len(one.captured_queries)


def test_patient_list_queries_do_not_grow(cast, clinical):
    with CaptureQueriesContext(connection) as before:
        fresh_client(cast.admin).get("/api/v1/patients/")
    cast.patient_a.current_products.add(clinical.tablet, clinical.vial)
    cast.patient_b.current_products.add(clinical.tablet)
    with CaptureQueriesContext(connection) as after:
        assert len(fresh_client(cast.admin).get("/api/v1/patients/").json()["results"]) == 4
    assert len(after.captured_queries) == len(before.captured_queries)


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_date_of_birth_in_the_future_is_a_400_naming_the_field_and_saves_nothing(cast, api, method):
    tomorrow = (timezone.localdate() + timedelta(days=1)).isoformat()
    before = list(Patient.objects.order_by("pk").values_list("pk", "date_of_birth"))
    if method == "post":
        response = api.post(
            "/api/v1/patients/",
            {"first_name": "Ada", "last_name": "Lovelace", "date_of_birth": tomorrow},
            format="json",
        )
    else:
        response = api.patch(f"/api/v1/patients/{cast.patient_a.pk}/", {"date_of_birth": tomorrow}, format="json")
    assert response.status_code == 400, response.json()
    assert response.json()["errors"] == {"date_of_birth": ["Cannot be in the future."]}
    assert list(Patient.objects.order_by("pk").values_list("pk", "date_of_birth")) == before
