"""Prescription uploads: the content decides the type, never the name; size limit; storage."""

import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import ImageFile
from rest_framework.test import APIClient

from core.errors import NotFound
from rx.models import AuditLog, Prescription
from rx.services.uploads import prescription_upload
from tests.rx.prescription_helpers import PDF_BYTES, jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db


def upload(cast, name, data, content_type="application/octet-stream", user=None, patient=None):
    return prescription_upload(
        user=user or cast.shopper_a,
        patient_id=(patient or cast.patient_a).pk,
        file=SimpleUploadedFile(name, data, content_type=content_type),
    )


@pytest.mark.parametrize(
    "name, data, content_type, ext",
    [
        ("scan.jpg", jpeg_bytes(), "image/jpeg", "jpg"),
        ("scan.png", png_bytes(), "image/png", "png"),
        ("scan.pdf", PDF_BYTES, "application/pdf", "pdf"),
    ],
)
def test_jpeg_png_and_pdf_are_accepted_and_stored_privately(cast, private_media, name, data, content_type, ext):
    rx = upload(cast, name, data)
    assert rx.status == Prescription.Status.RECEIVED and rx.source == Prescription.Source.UPLOAD
    assert rx.file_content_type == content_type
    assert rx.file.name.endswith(f".{ext}") and name not in rx.file.name
    stored = private_media / rx.file.name
    assert stored.read_bytes() == data
    assert AuditLog.objects.filter(action="create", object_type="rx.prescription", object_id=str(rx.pk)).exists()


def test_png_named_pdf_is_kept_as_the_png_it_is(cast, private_media):
    rx = upload(cast, "prescription.pdf", png_bytes(), content_type="application/pdf")
    assert rx.file_content_type == "image/png" and rx.file.name.endswith(".png")


@pytest.mark.parametrize(
    "name, data",
    [
        ("scan.jpg", b"this is only text pretending to be a photo"),
        ("scan.pdf", b"<html><script>alert(1)</script></html>"),
        ("scan.png", b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"),
        ("scan.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),  # PNG signature, broken image
        ("scan.jpg", jpeg_bytes()[:40]),  # truncated JPEG
        ("empty.pdf", b""),
    ],
)
def test_files_that_are_not_what_they_claim_are_rejected_and_nothing_is_saved(cast, private_media, name, data):
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, name, data, content_type="image/jpeg")
    assert "file" in excinfo.value.message_dict
    assert not Prescription.objects.exists()
    assert not private_media.exists() or not any(private_media.rglob("*.*"))


def test_oversized_file_is_rejected(cast, private_media, settings):
    settings.RX_UPLOAD_MAX_BYTES = 1024
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, "big.pdf", PDF_BYTES + b"0" * 2048)
    assert "limit" in excinfo.value.message_dict["file"][0]
    assert not Prescription.objects.exists()


def test_upload_for_someone_elses_patient_is_not_found(cast, private_media):
    with pytest.raises(NotFound):
        upload(cast, "scan.png", png_bytes(), patient=cast.patient_b)
    assert not Prescription.objects.exists()


def test_clinic_staff_upload_for_their_clinic_patient(cast, private_media):
    rx = upload(cast, "scan.png", png_bytes(), user=cast.clinician_a, patient=cast.patient_ca)
    assert rx.patient == cast.patient_ca and rx.created_by == cast.clinician_a


# --- through the API -------------------------------------------------------------------------------


@pytest.fixture
def shopper_client(cast):
    client = APIClient()
    client.force_authenticate(cast.shopper_a)
    return client


def test_api_upload_answers_201_with_the_prescription(cast, private_media, shopper_client):
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {
            "patient": cast.patient_a.pk,
            "file": SimpleUploadedFile("photo.jpeg", jpeg_bytes(), "image/jpeg"),
            "notes": "For my baclofen order",
        },
        format="multipart",
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "received" and body["findings"] == []
    assert body["file_url"].endswith(f"/rx/prescriptions/{body['id']}/file/")


def test_a_multipart_upload_is_not_held_to_the_json_body_limit(cast, private_media, shopper_client, settings):
    settings.API_MAX_JSON_BYTES = 64  # far below the image: uploads keep RX_UPLOAD_MAX_BYTES
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {"patient": cast.patient_a.pk, "file": SimpleUploadedFile("photo.png", png_bytes((64, 64)), "image/png")},
        format="multipart",
    )
    assert response.status_code == 201, response.content


def test_api_rejects_a_disguised_file_naming_the_field(cast, private_media, shopper_client):
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {"patient": cast.patient_a.pk, "file": SimpleUploadedFile("x.jpg", b"plain text", "image/jpeg")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("file:")
    assert not Prescription.objects.exists()


def test_api_rejects_an_oversized_file(cast, private_media, shopper_client, settings):
    settings.RX_UPLOAD_MAX_BYTES = 100
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {"patient": cast.patient_a.pk, "file": SimpleUploadedFile("x.png", png_bytes((64, 64)), "image/png")},
        format="multipart",
    )
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert not Prescription.objects.exists()


def png_header_only(width, height) -> bytes:
    """A PNG that declares ``width`` x ``height`` RGB pixels in its header and holds no image data: a few
    dozen bytes, which a decoder would have to expand to ``width * height * 3`` bytes."""

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")


def test_an_image_of_more_pixels_than_the_limit_is_refused_from_its_header(cast, private_media, shopper_client):
    # 9400 x 9400 (88 megapixels, under Pillow's own bomb limit): about 330 MB once decoded.
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {"patient": cast.patient_a.pk, "file": SimpleUploadedFile("big.png", png_header_only(9400, 9400), "image/png")},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["file"] == [
        "big.png is 9400 x 9400 pixels (88.4 megapixels); the limit is 40.0 megapixels. "
        "Scan or photograph the prescription at a lower resolution."
    ]
    assert not Prescription.objects.exists()


@pytest.mark.parametrize("make", [png_bytes, jpeg_bytes])
def test_the_pixel_limit_is_a_setting_checked_before_decoding(cast, private_media, settings, monkeypatch, make):
    settings.RX_UPLOAD_MAX_PIXELS = 64 * 64 - 1
    decoded = []
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: decoded.append(self))
    with pytest.raises(ValidationError) as excinfo:
        upload(cast, "scan.img", make((64, 64)))
    assert "64 x 64 pixels" in excinfo.value.message_dict["file"][0]
    assert decoded == []
    settings.RX_UPLOAD_MAX_PIXELS = 64 * 64
    monkeypatch.undo()
    assert upload(cast, "scan.img", make((64, 64))).file_content_type.startswith("image/")


def test_api_transfer_request_needs_no_file(cast, shopper_client):
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {
            "patient": cast.patient_a.pk,
            "prescriber_name": "Dr Ann Smith",
            "prescriber_npi": "1234567893",
            "prescriber_phone": "555-0100",
            "transfer_pharmacy": "Corner Drugs",
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    rx = Prescription.objects.get(pk=response.json()["id"])
    assert rx.source == Prescription.Source.TRANSFER and not rx.file
    assert rx.prescriber.npi == "1234567893" and rx.transfer_pharmacy == "Corner Drugs"


def test_api_transfer_with_a_mistyped_npi_names_the_field(cast, shopper_client):
    response = shopper_client.post(
        "/api/v1/prescriptions/",
        {"patient": cast.patient_a.pk, "prescriber_name": "Dr Ann Smith", "prescriber_npi": "1234567890"},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("prescriber_npi:")
    assert not Prescription.objects.exists()


def test_api_needs_a_file_or_a_prescriber(cast, shopper_client):
    response = shopper_client.post("/api/v1/prescriptions/", {"patient": cast.patient_a.pk}, format="json")
    assert response.status_code == 400 and "file" in response.json()["errors"]
