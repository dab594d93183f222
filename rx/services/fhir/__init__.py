"""FHIR R4 in and out: import a MedicationRequest, export a Dispense as MedicationDispense.

Resources are validated with ``fhir.resources.R4B`` (R4B is R4 for these resources; the
package's default is R5, where MedicationRequest has no ``medicationCodeableConcept``).

Import mapping:

- ``subject``: ``Patient/<id>`` of a patient the sender may act for, or ``#<id>`` of a contained
  Patient (name, birthDate, gender), created in the sender's clinic or matched by name and
  birth date.
- ``requester``: ``#<id>`` of a contained Practitioner, or a logical reference with an
  identifier; the NPI is the identifier with system ``http://hl7.org/fhir/sid/us-npi``, the DEA
  number one with system ``urn:oid:2.16.840.1.113883.4.814`` (or any system ending in ``dea``).
- ``medicationCodeableConcept``: a coding with system ``http://hl7.org/fhir/sid/ndc``.
- ``dosageInstruction[0]``: ``timing`` (repeat frequency/period/periodUnit, or a code such as
  TID), ``doseAndRate[0].doseQuantity``, ``route`` (SNOMED CT or text), ``asNeededBoolean``, ``text``.
- ``dispenseRequest``: ``quantity``, ``numberOfRepeatsAllowed``, ``expectedSupplyDuration``,
  ``validityPeriod.end``; ``substitution.allowedBoolean``; ``authoredOn``; ``priority``.

Modules: ``medication_request`` (the import), ``parties`` (subject and requester), ``order``
(medication, directions, dispense request), ``medication_dispense`` (the export), ``codes`` and
``errors``.

Errors raise ``FhirInvalid`` (400) whose ``element`` names the failing element
(``dispenseRequest.numberOfRepeatsAllowed``), from the pydantic error location or from the
mapping step that refused it.
"""

from .errors import FhirInvalid, FhirNotPermitted, element_path
from .medication_dispense import medication_dispense_resource
from .medication_request import medication_request_import

__all__ = [
    "FhirInvalid",
    "FhirNotPermitted",
    "element_path",
    "medication_dispense_resource",
    "medication_request_import",
]
