"""The PHI permission matrix over every prescription endpoint and the file URL.

Cast: anonymous, two shoppers, two clinics, a pharmacist, an admin. Prescriptions:
- rx_a  shopper A's patient, waiting in the queue              -> A, pharmacist, admin
- rx_b  shopper B's patient, approved by *the* pharmacist     -> B, pharmacist, admin
- rx_ca clinic A's patient, approved by another pharmacist    -> clinic A, admin
- rx_cb clinic B's patient, rejected by another pharmacist    -> clinic B, admin
Everyone else gets 404 (the same answer as for an id that does not exist), never 403.
"""

import json

import pytest
from django.core.files.base import ContentFile
from rest_framework.test import APIClient

from rx.models import Prescription
from rx.services.coverage import prescription_fill
from rx.services.verification import pharmacist_group, prescription_approve, prescription_reject
from tests.core.factories import UserFactory

from .fhir_helpers import medication_request
from .prescription_helpers import make_rx, png_bytes

pytestmark = pytest.mark.django_db
USERS = ["anonymous", "shopper_a", "shopper_b", "clinician_a", "clinician_b", "pharmacist", "admin"]
MISSING = 999999


@pytest.fixture
def world(clinical, cast, private_media):
    other = UserFactory(username="other_pharmacist", is_staff=True)
    other.groups.add(pharmacist_group())

    def uploaded(patient, user):
        return make_rx(
            patient,
            clinical.tablet,
            user=user,
            source=Prescription.Source.UPLOAD,
            file=ContentFile(png_bytes(), name="rx.png"),
            file_content_type="image/png",
        )

    rx = {
        "rx_a": uploaded(cast.patient_a, cast.shopper_a),
        "rx_b": uploaded(cast.patient_b, cast.shopper_b),
        "rx_ca": uploaded(cast.patient_ca, cast.clinician_a),
        "rx_cb": uploaded(cast.patient_cb, cast.clinician_b),
    }
    prescription_approve(prescription_id=rx["rx_b"].pk, pharmacist=cast.pharmacist)
    prescription_approve(prescription_id=rx["rx_ca"].pk, pharmacist=other)
    prescription_reject(prescription_id=rx["rx_cb"].pk, pharmacist=other, reason="Not legible.")
    dispenses = {
        "rx_b": prescription_fill(prescription_id=rx["rx_b"].pk, quantity=90, reference="order:B"),
        "rx_ca": prescription_fill(prescription_id=rx["rx_ca"].pk, quantity=90, reference="order:CA"),
    }
    patients = {"rx_a": cast.patient_a, "rx_b": cast.patient_b, "rx_ca": cast.patient_ca, "rx_cb": cast.patient_cb}
    return {"rx": rx, "dispenses": dispenses, "patients": patients, "cast": cast}


SEES_RX = {
    "anonymous": set(),
    "shopper_a": {"rx_a"},
    "shopper_b": {"rx_b"},
    "clinician_a": {"rx_ca"},
    "clinician_b": {"rx_cb"},
    "pharmacist": {"rx_a", "rx_b"},
    "admin": {"rx_a", "rx_b", "rx_ca", "rx_cb"},
}
OWNS = {
    "shopper_a": {"rx_a"},
    "shopper_b": {"rx_b"},
    "clinician_a": {"rx_ca"},
    "clinician_b": {"rx_cb"},
    "admin": {"rx_a", "rx_b", "rx_ca", "rx_cb"},
}


def client_for(world, who):
    client = APIClient()
    if who != "anonymous":
        client.force_login(getattr(world["cast"], who))
    return client


def test_prescription_list_shows_exactly_what_the_user_may_see(world):
    for who in USERS:
        response = client_for(world, who).get("/api/v1/prescriptions/")
        if who == "anonymous":
            assert response.status_code == 401
            continue
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert ids == {world["rx"][k].pk for k in SEES_RX[who]}


def test_prescription_detail_is_404_for_anyone_not_allowed(world):
    for who in USERS:
        client = client_for(world, who)
        missing = client.get(f"/api/v1/prescriptions/{MISSING}/")
        for key, rx in world["rx"].items():
            response = client.get(f"/api/v1/prescriptions/{rx.pk}/")
            if who == "anonymous":
                assert response.status_code == 401 == missing.status_code
            elif key in SEES_RX[who]:
                assert response.status_code == 200
                assert {"status", "findings"} <= set(response.json())
            else:
                assert response.status_code == 404, (who, key)
                assert response.json() == missing.json()


def test_patient_list_and_detail_follow_the_same_rules(world):
    for who in USERS:
        client = client_for(world, who)
        listed = client.get("/api/v1/patients/")
        if who == "anonymous":
            assert listed.status_code == 401
        else:
            assert {p["id"] for p in listed.json()["results"]} == {world["patients"][k].pk for k in SEES_RX[who]}
        for key, patient in world["patients"].items():
            response = client.get(f"/api/v1/patients/{patient.pk}/")
            expected = 401 if who == "anonymous" else 200 if key in SEES_RX[who] else 404
            assert response.status_code == expected, (who, key)


def test_patient_changes_only_by_the_owner(world):
    for who in USERS:
        client = client_for(world, who)
        for key, patient in world["patients"].items():
            response = client.patch(f"/api/v1/patients/{patient.pk}/", {"allergies": "latex"}, format="json")
            if who == "anonymous":
                expected = 401
            elif key in OWNS.get(who, set()):
                expected = 200
            elif key in SEES_RX[who]:
                expected = 403  # the pharmacist sees the patient under review but does not own the record
            else:
                expected = 404
            assert response.status_code == expected, (who, key, response.content)
            patient.refresh_from_db()
            assert (patient.allergies == "latex") == (expected == 200)
            if expected == 200:
                patient.allergies = ""
                patient.save()


def test_upload_only_for_your_own_patients(world):
    for who in USERS:
        client = client_for(world, who)
        before = Prescription.objects.count()
        for key, patient in world["patients"].items():
            response = client.post(
                "/api/v1/prescriptions/",
                {"patient": patient.pk, "file": ContentFile(png_bytes(), name="new.png")},
                format="multipart",
            )
            expected = 401 if who == "anonymous" else 201 if key in OWNS.get(who, set()) else 404
            assert response.status_code == expected, (who, key)
        assert Prescription.objects.count() - before == len(OWNS.get(who, set()))


def test_patient_creation(world):
    for who in USERS:
        client = client_for(world, who)
        body = {"first_name": "New", "last_name": "Person", "date_of_birth": "2000-01-01"}
        response = client.post("/api/v1/patients/", body, format="json")
        assert response.status_code == (401 if who == "anonymous" else 201)
        if who == "clinician_a":
            mine = client.post("/api/v1/patients/", {**body, "clinic": world["cast"].clinic_a.pk}, format="json")
            assert mine.status_code == 201 and mine.json()["owner"] == "clinic"
            theirs = client.post("/api/v1/patients/", {**body, "clinic": world["cast"].clinic_b.pk}, format="json")
            assert theirs.status_code == 400 and "clinic" in theirs.json()["errors"]


def test_fhir_import_only_from_clinics_for_their_patients_or_staff(world):
    for who in USERS:
        client = client_for(world, who)
        for key, patient in world["patients"].items():
            body = json.dumps(medication_request(f"Patient/{patient.pk}"))
            response = client.generic(
                "POST", "/api/v1/fhir/MedicationRequest", body, content_type="application/fhir+json"
            )
            if who == "anonymous":
                expected = 401
            elif who in ("shopper_a", "shopper_b"):
                expected = 403  # shoppers cannot use the endpoint at all (no object involved)
            elif who in ("pharmacist", "admin"):
                expected = 201  # pharmacy staff
            else:
                expected = 201 if key in OWNS[who] else 400  # same answer as a patient id that does not exist
            assert response.status_code == expected, (who, key, response.content)


def test_medication_dispense_follows_the_prescription(world):
    for who in USERS:
        client = client_for(world, who)
        missing = client.get(f"/api/v1/fhir/MedicationDispense/{MISSING}")
        for key, dispense in world["dispenses"].items():
            response = client.get(f"/api/v1/fhir/MedicationDispense/{dispense.pk}")
            expected = 401 if who == "anonymous" else 200 if key in SEES_RX[who] else 404
            assert response.status_code == expected, (who, key)
            if expected == 404:
                assert missing.status_code == 404


def test_uploaded_file_is_served_only_to_those_allowed(world):
    for who in USERS:
        from django.test import Client

        client = Client()
        if who != "anonymous":
            client.force_login(getattr(world["cast"], who))
        assert client.get(f"/rx/prescriptions/{MISSING}/file/").status_code == (302 if who == "anonymous" else 404)
        for key, rx in world["rx"].items():
            response = client.get(f"/rx/prescriptions/{rx.pk}/file/")
            if who == "anonymous":
                assert response.status_code == 302 and "/file/" in response["Location"]  # to the login page
            elif key in SEES_RX[who]:
                assert response.status_code == 200
                assert response["Content-Type"] == "image/png"
                assert response["Cache-Control"] == "private, no-store"
                assert b"".join(response.streaming_content) == png_bytes()
            else:
                assert response.status_code == 404, (who, key)
