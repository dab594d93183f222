"""The prescription's state machine, declared once: its statuses and the moves allowed between them.

``rx.services.prescriptions.prescription_transition`` is the only writer of ``Prescription.status``;
it checks each move here (through ``Prescription.can_transition``) and records the event.
"""

from django.db import models


class PrescriptionStatus(models.TextChoices):
    RECEIVED = "received", "Received"
    IN_REVIEW = "in_review", "In review"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    NEEDS_INFORMATION = "needs_information", "Needs information"
    EXPIRED = "expired", "Expired"


S = PrescriptionStatus
# from -> allowed targets
TRANSITIONS: dict[PrescriptionStatus, set[PrescriptionStatus]] = {
    S.RECEIVED: {S.IN_REVIEW, S.REJECTED, S.EXPIRED},
    S.IN_REVIEW: {S.APPROVED, S.REJECTED, S.NEEDS_INFORMATION, S.EXPIRED},
    S.NEEDS_INFORMATION: {S.RECEIVED, S.IN_REVIEW, S.REJECTED, S.EXPIRED},
    S.APPROVED: {S.EXPIRED},
    S.REJECTED: set(),
    S.EXPIRED: set(),
}
# Waiting on a pharmacist (the verification queue).
QUEUE_STATUSES = (S.RECEIVED, S.IN_REVIEW, S.NEEDS_INFORMATION)
