"""Helpers for the FHIR tests: a valid MedicationRequest to change one element at a time."""

from django.utils import timezone


def medication_request(patient_ref="#pat", **changes):
    resource = {
        "resourceType": "MedicationRequest",
        "identifier": [{"system": "urn:ehr:rx", "value": "EHR-778"}],
        "status": "active",
        "intent": "order",
        "contained": [
            {
                "resourceType": "Patient",
                "id": "pat",
                "name": [{"family": "Rivera", "given": ["Maya"]}],
                "birthDate": "1984-04-09",
                "gender": "female",
            },
            {
                "resourceType": "Practitioner",
                "id": "doc",
                "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"}],
                "name": [{"family": "Smith", "given": ["Ann"], "prefix": ["Dr"]}],
            },
        ],
        "subject": {"reference": patient_ref},
        "requester": {"reference": "#doc"},
        "authoredOn": timezone.localdate().isoformat(),
        "medicationCodeableConcept": {
            "coding": [
                {"system": "http://hl7.org/fhir/sid/ndc", "code": "0832-1024-00", "display": "Baclofen 10 mg tablet"}
            ]
        },
        "dosageInstruction": [
            {
                "text": "Take 2 tablets by mouth four times a day",
                "timing": {"repeat": {"frequency": 4, "period": 1, "periodUnit": "d"}},
                "route": {"coding": [{"system": "http://snomed.info/sct", "code": "26643006", "display": "Oral"}]},
                "doseAndRate": [
                    {
                        "doseQuantity": {
                            "value": 2,
                            "unit": "tablet",
                            "system": "http://unitsofmeasure.org",
                            "code": "{tbl}",
                        }
                    }
                ],
            }
        ],
        "dispenseRequest": {
            "quantity": {"value": 240},
            "numberOfRepeatsAllowed": 1,
            "expectedSupplyDuration": {"value": 30, "unit": "days", "code": "d"},
        },
        "substitution": {"allowedBoolean": True},
    }
    resource.update(changes)
    return resource
