"""Prescriptions (rx.services.prescriptions): a shopper's transfer request keeps the prescriber details it
was sent on the prescription and never changes the shared prescriber record."""

import pytest
from rest_framework.test import APIClient

from rx.models import Prescriber, Prescription
from rx.services.prescriptions import prescription_transfer_request
from tests.rx.factories import PrescriberFactory

pytestmark = pytest.mark.django_db

SUBMITTED = {
    "prescriber_name": "Dr A. Smith",
    "prescriber_npi": "1234567893",
    "prescriber_practice": "Evil Practice",
    "prescriber_dea_number": "AS1234563",
    "prescriber_phone": "555-0199",
    "prescriber_fax": "555-0666",
}


def shared_record(prescriber):
    return Prescriber.objects.filter(pk=prescriber.pk).values("name", "practice", "dea_number", "phone", "fax").get()


def test_a_transfer_request_for_a_known_npi_leaves_the_shared_prescriber_alone(cast):
    doctor = PrescriberFactory(npi="1234567893", phone="555-0100", fax="", dea_number="")
    before = shared_record(doctor)
    client = APIClient()
    client.force_authenticate(cast.shopper_a)

    response = client.post("/api/v1/prescriptions/", {"patient": cast.patient_a.pk, **SUBMITTED}, format="json")

    assert response.status_code == 201, response.content
    assert shared_record(doctor) == before  # neither overwritten nor its blanks (fax, DEA) filled in
    rx = Prescription.objects.get(pk=response.json()["id"])
    assert rx.prescriber == doctor
    assert rx.prescriber_details_submitted == {
        "name": "Dr A. Smith",
        "npi": "1234567893",
        "practice": "Evil Practice",
        "dea_number": "AS1234563",
        "phone": "555-0199",
        "fax": "555-0666",
    }


def test_a_new_npi_creates_the_prescriber_and_keeps_what_was_sent(cast):
    rx = prescription_transfer_request(
        user=cast.shopper_a,
        patient_id=cast.patient_a.pk,
        prescriber={"name": " Dr New ", "npi": "1234567893", "fax": "555-0101"},
    )
    assert (rx.prescriber.name, rx.prescriber.fax) == ("Dr New", "555-0101")
    assert rx.prescriber_details_submitted == {"name": "Dr New", "npi": "1234567893", "fax": "555-0101"}
