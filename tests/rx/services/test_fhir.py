"""FHIR R4 MedicationRequest import and MedicationDispense export."""

import copy
import json
from datetime import UTC, date, datetime
from unittest import mock

import pytest
from fhir.resources.R4B.medicationdispense import MedicationDispense
from rest_framework.test import APIClient

from rx.models import AuditLog, Patient, Prescriber, Prescription
from rx.services import fhir
from rx.services.coverage import dispense_hand_over, prescription_fill
from tests.rx.factories import PatientFactory
from tests.rx.fhir_helpers import medication_request
from tests.rx.prescription_helpers import approve, make_rx

pytestmark = pytest.mark.django_db
URL = "/api/v1/fhir/MedicationRequest"


@pytest.fixture
def clinic_client(cast):
    client = APIClient()
    client.force_authenticate(cast.clinician_a)
    return client


def post(client, body, content_type="application/fhir+json"):
    return client.generic("POST", URL, json.dumps(body), content_type=content_type)


def test_clinic_import_answers_201_with_the_prescription_and_its_findings(clinical, cast, clinic_client):
    response = post(clinic_client, medication_request())
    assert response.status_code == 201, response.content
    body = response.json()
    rx = Prescription.objects.get(pk=body["id"])
    assert body["status"] == "received"
    # 2 tablets x 10 mg x 4/day = 80 mg/day (at the maximum); 240 tablets for 30 days is exactly the need.
    assert body["findings"] == []
    assert response["Location"].endswith(f"/api/v1/prescriptions/{rx.pk}/")
    assert rx.source == Prescription.Source.FHIR and rx.product == clinical.tablet
    assert (rx.dose_amount, rx.dose_unit, rx.times_per_day, rx.route) == (2, "unit", 4, "oral")
    assert (rx.quantity, rx.refills_authorized, rx.days_supply, rx.fills_remaining) == (240, 1, 30, 2)
    assert rx.external_id == "EHR-778" and rx.substitution_allowed
    assert rx.patient.clinic == cast.clinic_a and rx.patient.last_name == "Rivera"
    assert rx.prescriber.npi == "1234567893" and rx.prescriber.name == "Dr Ann Smith"
    assert AuditLog.objects.filter(action="create", object_type="rx.prescription", object_id=str(rx.pk)).exists()


def test_import_returns_the_findings_it_computed(clinical, cast, clinic_client):
    body = medication_request(f"Patient/{cast.patient_ca.pk}")
    body["dosageInstruction"][0]["timing"] = {"code": {"coding": [{"code": "QID"}]}}
    body["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"] = {"value": 30, "unit": "mg"}
    body["dispenseRequest"]["quantity"]["value"] = 360
    response = post(clinic_client, body)
    assert response.status_code == 201, response.content
    findings = {f["code"]: f for f in response.json()["findings"]}
    assert findings["HD"]["severity"] == "high" and "120 mg" in findings["HD"]["message"]
    assert set(findings["HD"]) == {"code", "severity", "message", "overridden"}
    assert Prescription.objects.get().patient == cast.patient_ca


def test_contained_patient_sent_twice_is_not_duplicated(clinical, cast, clinic_client):
    assert post(clinic_client, medication_request()).status_code == 201
    assert post(clinic_client, medication_request()).status_code == 201
    assert Patient.objects.filter(last_name="Rivera").count() == 1


def test_npi_failing_its_check_digit_is_kept_and_flagged(clinical, cast, clinic_client):
    body = medication_request()
    body["contained"][1]["identifier"][0]["value"] = "1234567890"
    response = post(clinic_client, body)
    assert response.status_code == 201
    assert "PN" in {f["code"] for f in response.json()["findings"]}


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda r: r["dispenseRequest"].update(numberOfRepeatsAllowed="two"), "dispenseRequest.numberOfRepeatsAllowed"),
        (
            lambda r: r["dosageInstruction"][0]["timing"]["repeat"].update(frequency="often"),
            "dosageInstruction[0].timing.repeat.frequency",
        ),
        (lambda r: r.update(unknownElement=1), "unknownElement"),
        (lambda r: r.pop("subject"), "subject"),
        (lambda r: r.pop("medicationCodeableConcept"), "medication[x]"),
        (lambda r: r["contained"][0].update(birthDate="1984-13-40"), "contained[0].birthDate"),
        (lambda r: r.update(resourceType="MedicationOrder"), "resourceType"),
        (lambda r: r.update(status="cancelled"), "status"),
        (lambda r: r.pop("authoredOn"), "authoredOn"),
        (
            lambda r: r["medicationCodeableConcept"]["coding"][0].update(
                system="http://www.nlm.nih.gov/research/umls/rxnorm"
            ),
            "medicationCodeableConcept.coding",
        ),
        (
            lambda r: r["medicationCodeableConcept"]["coding"][0].update(code="99999-9999-99"),
            "medicationCodeableConcept.coding",
        ),
        (
            lambda r: r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"].update(unit="spoon", code="spoon"),
            "dosageInstruction[0].doseAndRate[0].doseQuantity.unit",
        ),
        (lambda r: r["dispenseRequest"].pop("quantity"), "dispenseRequest.quantity"),
        (lambda r: r.update(subject={"reference": "Patient/999999"}), "subject"),
        (lambda r: r["contained"][1].update(identifier=[]), "requester"),
        (lambda r: r.update(dosageInstruction=[]), "dosageInstruction"),
    ],
)
def test_invalid_resource_gets_400_naming_the_element(clinical, cast, clinic_client, mutate, element):
    body = copy.deepcopy(medication_request())
    mutate(body)
    response = post(clinic_client, body)
    assert response.status_code == 400, response.content
    data = response.json()
    assert data["code"] == "invalid_fhir_resource"
    assert data["element"] == element
    assert data["detail"].startswith(f"{element}:")
    assert not Prescription.objects.exists()


def test_patient_of_another_clinic_cannot_be_referenced(clinical, cast, clinic_client):
    response = post(clinic_client, medication_request(f"Patient/{cast.patient_cb.pk}"))
    assert response.status_code == 400 and response.json()["element"] == "subject"
    assert not Prescription.objects.exists()


def test_shoppers_cannot_import(clinical, cast):
    client = APIClient()
    client.force_authenticate(cast.shopper_a)
    response = post(client, medication_request(f"Patient/{cast.patient_a.pk}"))
    assert response.status_code == 403
    assert not Prescription.objects.exists()


def test_plain_json_content_type_is_accepted_too(clinical, cast, clinic_client):
    assert post(clinic_client, medication_request(), content_type="application/json").status_code == 201


def test_prescriber_details_are_reused_by_npi(clinical, cast, clinic_client):
    post(clinic_client, medication_request())
    post(clinic_client, medication_request())
    assert Prescriber.objects.filter(npi="1234567893").count() == 1


def test_an_import_keeps_its_prescriber_details_on_the_prescription_and_leaves_the_shared_record(
    clinical, cast, clinic_client
):
    doctor = Prescriber.objects.create(npi="1234567893", name="Dr Ann Smith", phone="555-0100")
    body = medication_request()
    body["contained"][1]["telecom"] = [{"system": "phone", "value": "555-0199"}, {"system": "fax", "value": "555-0666"}]
    response = post(clinic_client, body)
    assert response.status_code == 201, response.json()
    doctor.refresh_from_db()
    assert (doctor.phone, doctor.fax) == ("555-0100", "")
    rx = Prescription.objects.get(pk=response.json()["id"])
    assert rx.prescriber == doctor
    assert rx.prescriber_details_submitted == {
        "name": "Dr Ann Smith",
        "npi": "1234567893",
        "phone": "555-0199",
        "fax": "555-0666",
    }


# --- MedicationDispense ------------------------------------------------------------------------------


def test_dispense_reads_back_as_a_valid_medication_dispense(clinical, cast):
    rx = approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)
    dispense = prescription_fill(
        prescription_id=rx.pk, quantity=90, reference="order:PH-7:line:1", dispensed_by=cast.pharmacist
    )
    dispense_hand_over(dispense_id=dispense.pk)
    client = APIClient()
    client.force_authenticate(cast.shopper_a)
    response = client.get(f"/api/v1/fhir/MedicationDispense/{dispense.pk}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    resource = MedicationDispense.model_validate(response.json())
    assert resource.status == "completed"
    assert resource.medicationCodeableConcept.coding[0].code == "00832-1024-00"
    assert resource.quantity.value == 90 and resource.daysSupply.value == 30
    assert resource.authorizingPrescription[0].reference == f"MedicationRequest/{rx.pk}"
    assert resource.subject.reference == f"Patient/{cast.patient_a.pk}"
    assert resource.whenHandedOver >= resource.whenPrepared
    assert resource.dosageInstruction[0].timing.repeat.frequency == 3
    assert resource.performer[0].actor.display == "Phil Pharm"


def test_dispense_not_yet_handed_over_is_in_progress(clinical, cast):
    rx = approve(
        make_rx(
            cast.patient_a, clinical.vial, dose_amount=500, dose_unit="mcg", times_per_day=1, quantity=1, days_supply=60
        ),
        cast.pharmacist,
    )
    dispense = prescription_fill(prescription_id=rx.pk, quantity=1, reference="kit:1")
    client = APIClient()
    client.force_authenticate(cast.admin)
    body = client.get(f"/api/v1/fhir/MedicationDispense/{dispense.pk}").json()
    assert body["status"] == "in-progress" and "whenHandedOver" not in body
    assert body["dosageInstruction"][0]["route"]["coding"][0]["code"] == "72607000"


def test_another_shoppers_dispense_is_not_found(clinical, cast):
    rx = approve(make_rx(cast.patient_a, clinical.tablet), cast.pharmacist)
    dispense = prescription_fill(prescription_id=rx.pk, quantity=90, reference="r")
    client = APIClient()
    client.force_authenticate(cast.shopper_b)
    assert client.get(f"/api/v1/fhir/MedicationDispense/{dispense.pk}").status_code == 404


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda r: r.update(subject=None), "subject"),
        (lambda r: r["contained"].append({"resourceType": "Foo", "id": "x"}), "contained"),
        (
            lambda r: r["dosageInstruction"][0]["timing"]["repeat"].update(period=1e-30),
            "dosageInstruction[0].timing.repeat",
        ),
        (lambda r: r.update(authoredOn="9999-12-31"), "authoredOn"),
        (
            lambda r: r["contained"][0].update(name=[{"family": "x" * 500, "given": ["Maya"]}]),
            "contained.Patient.name.family",
        ),
        (lambda r: r["contained"][1].update(name=[{"text": "x" * 500}]), "requester.name"),
        (
            lambda r: r["contained"][1].update(
                identifier=[{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1" * 50}]
            ),
            "requester.identifier",
        ),
        (
            lambda r: r["contained"][1]["identifier"].append(
                {"system": "urn:oid:2.16.840.1.113883.4.814", "value": "A" * 50}
            ),
            "requester.identifier",
        ),
    ],
)
def test_broken_resource_that_used_to_crash_gets_400_naming_the_element(clinical, cast, clinic_client, mutate, element):
    body = copy.deepcopy(medication_request())
    mutate(body)
    response = post(clinic_client, body)
    assert response.status_code == 400, response.content
    assert response.json()["element"] == element
    assert not Prescription.objects.exists()
    assert not Prescriber.objects.exists()


def test_staff_without_the_pharmacist_group_cannot_import_for_a_patient_they_may_not_see(clinical, cast):
    from tests.core.factories import UserFactory

    client = APIClient()
    client.force_authenticate(UserFactory(username="support", is_staff=True))
    response = post(client, medication_request(f"Patient/{cast.patient_b.pk}"))
    assert response.status_code == 403
    assert not Prescription.objects.exists()


def test_pharmacist_cannot_import_for_a_patient_outside_their_review(clinical, cast):
    client = APIClient()
    client.force_authenticate(cast.pharmacist)
    response = post(client, medication_request(f"Patient/{cast.patient_b.pk}"))
    assert response.status_code == 400 and response.json()["element"] == "subject"
    assert not Prescription.objects.exists()


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda r: r["contained"][0].update(birthDate="9999-01-01"), "contained.Patient.birthDate"),
        (lambda r: r["contained"][0].update(birthDate="1984"), "contained.Patient.birthDate"),
        (lambda r: r.update(authoredOn="0001-01-01"), "authoredOn"),
    ],
)
def test_absurd_dates_are_refused_naming_the_element(clinical, cast, clinic_client, mutate, element):
    body = copy.deepcopy(medication_request())
    mutate(body)
    response = post(clinic_client, body)
    assert response.status_code == 400, response.content
    assert response.json()["element"] == element
    assert not Prescription.objects.exists()
    assert not Patient.objects.filter(last_name="Rivera").exists()


def test_refused_import_leaves_no_contained_patient_or_prescriber_behind(clinical, cast, clinic_client):
    body = medication_request()
    body["contained"][1]["identifier"] = []  # no NPI: refused after the contained Patient is resolved
    assert post(clinic_client, body).status_code == 400
    body = medication_request()
    body["dispenseRequest"]["expectedSupplyDuration"]["value"] = 40000  # refused by the model, after the prescriber
    assert post(clinic_client, body).status_code == 400
    assert not Patient.objects.filter(last_name="Rivera").exists()
    assert not Prescriber.objects.exists()
    assert not AuditLog.objects.filter(object_type="rx.patient").exists()


NUL = "\x00"


@pytest.mark.parametrize(
    "mutate, element",
    [
        (lambda r: r["dosageInstruction"][0].update(text=f"Take 2{NUL} tablets"), "dosageInstruction[0].text"),
        (
            lambda r: r["contained"][1]["identifier"][0].update(value=f"12345{NUL}6789"),
            "contained[1].identifier[0].value",
        ),
        (lambda r: r["identifier"][0].update(value=f"EHR{NUL}778"), "identifier[0].value"),
        (lambda r: r["contained"][0]["name"][0].update(family=f"Riv{NUL}era"), "contained[0].name[0].family"),
    ],
)
def test_a_nul_character_in_the_resource_is_a_400_naming_it(clinical, cast, clinic_client, mutate, element):
    body = copy.deepcopy(medication_request())
    mutate(body)

    response = post(clinic_client, body)

    assert response.status_code == 400, response.content
    assert element in response.json()["errors"]
    assert not Prescription.objects.exists()


def test_a_nul_character_handed_to_the_import_service_names_the_element(clinical, cast):
    body = medication_request()
    body["dosageInstruction"][0]["text"] = f"Take{NUL}"

    with pytest.raises(fhir.FhirInvalid) as refused:
        fhir.medication_request_import(payload=body, user=cast.clinician_a)

    assert refused.value.element == "dosageInstruction[0].text"


@pytest.mark.parametrize(
    "telecom, element",
    [
        ({"system": "phone", "value": "5" * 100}, "requester.telecom.phone"),
        ({"system": "fax", "value": "5" * 100}, "requester.telecom.fax"),
        ({"system": "email", "value": "a" * 300 + "@example.com"}, "requester.telecom.email"),
    ],
)
def test_an_over_long_practitioner_telecom_is_a_400_naming_it(clinical, cast, clinic_client, telecom, element):
    body = medication_request()
    body["contained"][1]["telecom"] = [telecom]

    response = post(clinic_client, body)

    assert response.status_code == 400, response.content
    assert response.json()["element"] == element
    assert not Prescriber.objects.exists()


def test_a_contained_patient_matching_two_patients_is_a_409_saying_it_is_ambiguous(clinical, cast, clinic_client):
    for _ in range(2):
        PatientFactory(
            account=None, clinic=cast.clinic_a, first_name="Maya", last_name="Rivera", date_of_birth=date(1984, 4, 9)
        )

    response = post(clinic_client, medication_request())

    assert response.status_code == 409, response.content
    assert response.json()["element"] == "subject"
    assert "ambiguous" in response.json()["detail"]
    assert not Prescription.objects.exists()


def test_the_written_date_is_checked_against_the_pharmacys_day(clinical, cast, clinic_client, settings):
    # 02:00 UTC on 2 December 2026 is 21:00 on 1 December in New York: 3 December is two days ahead.
    settings.PHARMACY_TIME_ZONE = "America/New_York"
    with mock.patch("django.utils.timezone.now", return_value=datetime(2026, 12, 2, 2, 0, tzinfo=UTC)):
        response = post(clinic_client, medication_request(authoredOn="2026-12-03"))
    assert response.status_code == 400, response.content
    assert response.json()["element"] == "authoredOn"
