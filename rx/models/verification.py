"""What is decided about a prescription: DUR findings, the pharmacist's decisions, and the
owner's responses to a request for information. Decisions and responses are kept forever
(``core.models.ImmutableModel``)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Severity
from core.models import ImmutableModel

from .prescriptions import Prescription, prescription_file_path

__all__ = ["Finding", "Decision", "PrescriptionResponse"]


class Finding(models.Model):
    """A DUR finding (NCPDP conflict code or one of ours) stored on a prescription."""

    Severity = Severity

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="findings")
    code = models.CharField(max_length=3)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.TextField()
    data = models.JSONField(default=dict, blank=True)
    overridden = models.BooleanField(default=False)
    override_reason = models.TextField(blank=True)
    overridden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    overridden_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    SEVERITY_RANK = {Severity.HIGH: 0, Severity.MODERATE: 1, Severity.LOW: 2}

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(overridden=False) | ~Q(override_reason=""), name="finding_override_needs_reason"
            )
        ]

    def __str__(self):
        return f"[{self.code}/{self.severity}] {self.message}"


class Decision(ImmutableModel):
    """A pharmacist's decision on a prescription. Written once, never changed or deleted."""

    class Action(models.TextChoices):
        APPROVE = "approve", "Approve"
        REJECT = "reject", "Reject"
        REQUEST_INFO = "request_info", "Request information"

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="decisions")
    pharmacist = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=Action.choices)
    message = models.TextField(blank=True, help_text="Reason (reject) or question (request information).")
    # [{"finding": id, "code": "HD", "severity": "high", "message": ..., "reason": ...}]
    overrides = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    change_refused = "A decision is kept as made and cannot be changed."
    delete_refused = "A decision is kept forever and cannot be deleted."

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(action="approve") | ~Q(message=""), name="decision_reject_or_request_has_message"
            )
        ]

    def __str__(self):
        return f"{self.get_action_display()} by {self.pharmacist} on {self.created_at:%Y-%m-%d %H:%M}"


class PrescriptionResponse(ImmutableModel):
    """The owner's answer (shopper or clinic staff) to a pharmacist's request for information.
    Written once, never changed or deleted.

    An attached file becomes the prescription's current document (``Prescription.file``, what the
    review page shows); the document it replaced stays in storage and is named in
    ``replaced_file``, so nothing sent is lost.
    """

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="responses")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    message = models.TextField()
    file = models.FileField(upload_to=prescription_file_path, blank=True, max_length=200)
    file_content_type = models.CharField(max_length=40, blank=True)
    replaced_file = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    change_refused = "A response is kept as sent and cannot be changed."
    delete_refused = "A response is kept forever and cannot be deleted."

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=~Q(message=""), name="prescriptionresponse_has_message")]

    def __str__(self):
        return f"Response by {self.author} on {self.created_at:%Y-%m-%d %H:%M}"
