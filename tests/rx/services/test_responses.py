"""Answering a pharmacist's request for information: POST /api/v1/prescriptions/{id}/response/."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from rest_framework.test import APIClient

from rx.models import AuditLog, Prescription, PrescriptionEvent, PrescriptionResponse
from rx.services.verification import prescription_request_information
from tests.rx.prescription_helpers import make_rx, png_bytes

pytestmark = pytest.mark.django_db
Status = Prescription.Status


def url(rx):
    return f"/api/v1/prescriptions/{rx.pk}/response/"


def api(user):
    client = APIClient()
    client.force_authenticate(type(user).objects.get(pk=user.pk))
    return client


def waiting_rx(clinical, cast, patient):
    rx = make_rx(patient, clinical.tablet)
    prescription_request_information(
        prescription_id=rx.pk, pharmacist=cast.pharmacist, message="Please confirm the dose with your doctor."
    )
    rx.refresh_from_db()
    assert rx.status == Status.NEEDS_INFORMATION
    return rx


def test_owner_answers_and_the_prescription_is_back_in_the_queue_for_the_pharmacist(clinical, cast, private_media):
    rx = waiting_rx(clinical, cast, cast.patient_a)
    response = api(cast.shopper_a).post(
        url(rx), {"message": "Dr Smith confirmed 10 mg three times a day."}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["status"] == Status.RECEIVED and response.json()["file_attached"] is False
    rx.refresh_from_db()
    assert rx.status == Status.RECEIVED and rx.status in Prescription.QUEUE_STATUSES
    event = PrescriptionEvent.objects.filter(prescription=rx).last()
    assert (event.from_status, event.to_status, event.actor) == (
        Status.NEEDS_INFORMATION,
        Status.RECEIVED,
        cast.shopper_a,
    )
    assert AuditLog.objects.filter(
        user=cast.shopper_a,
        action="change",
        object_type="rx.prescription",
        object_id=str(rx.pk),
        detail__contains="information request",
    ).exists()
    pharmacist = Client()
    pharmacist.force_login(cast.pharmacist)
    page = pharmacist.get(f"/admin/rx/verificationqueueitem/{rx.pk}/change/")
    assert page.status_code == 200
    assert "Dr Smith confirmed 10 mg three times a day." in page.content.decode()


def test_clinic_staff_answer_with_a_new_document_that_becomes_the_current_one(clinical, cast, private_media):
    rx = waiting_rx(clinical, cast, cast.patient_ca)
    response = api(cast.clinician_a).post(
        url(rx),
        {
            "message": "Signed copy attached.",
            "file": SimpleUploadedFile("scan.pdf", png_bytes(), content_type="application/pdf"),
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    rx.refresh_from_db()
    answer = PrescriptionResponse.objects.get(prescription=rx)
    assert answer.file_content_type == "image/png" and answer.file.name.endswith(".png")
    assert rx.file.name == answer.file.name and rx.file_content_type == "image/png"
    assert (private_media / rx.file.name).read_bytes() == png_bytes()


@pytest.mark.parametrize(
    "who, patient",
    [
        ("shopper_b", "patient_a"),
        ("clinician_b", "patient_ca"),
        ("clinician_a", "patient_a"),
        ("pharmacist", "patient_a"),
    ],
)
def test_anyone_but_the_owner_gets_404_and_nothing_changes(clinical, cast, who, patient):
    rx = waiting_rx(clinical, cast, getattr(cast, patient))
    response = api(getattr(cast, who)).post(url(rx), {"message": "Let me in."}, format="json")
    assert response.status_code == 404
    rx.refresh_from_db()
    assert rx.status == Status.NEEDS_INFORMATION and not PrescriptionResponse.objects.exists()


def test_answering_a_prescription_not_waiting_for_information_is_409_with_its_status(clinical, cast):
    rx = make_rx(cast.patient_a, clinical.tablet)
    response = api(cast.shopper_a).post(url(rx), {"message": "Here you go."}, format="json")
    assert response.status_code == 409
    assert response.json()["status"] == Status.RECEIVED
    assert not PrescriptionResponse.objects.exists()


def test_a_file_that_is_not_jpeg_png_or_pdf_is_400_and_nothing_is_saved(clinical, cast, private_media):
    rx = waiting_rx(clinical, cast, cast.patient_a)
    bad = SimpleUploadedFile("scan.jpg", b"#!/bin/sh\necho hi\n", content_type="image/jpeg")
    response = api(cast.shopper_a).post(url(rx), {"message": "Attached.", "file": bad}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["errors"]
    rx.refresh_from_db()
    assert rx.status == Status.NEEDS_INFORMATION and not PrescriptionResponse.objects.exists()


def test_the_message_is_required(clinical, cast):
    rx = waiting_rx(clinical, cast, cast.patient_a)
    response = api(cast.shopper_a).post(url(rx), {"message": "  "}, format="json")
    assert response.status_code == 400 and "message" in response.json()["errors"]
    rx.refresh_from_db()
    assert rx.status == Status.NEEDS_INFORMATION and not PrescriptionResponse.objects.exists()
