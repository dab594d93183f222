"""The PHI audit log (HIPAA 45 CFR 164.312(b)): who viewed or changed what, when, from where.

Append-only: a row is written once by ``rx.services.audit`` and never changed or deleted
(``core.models.ImmutableModel``: ``save`` refuses updates, ``delete`` and bulk updates/deletes raise).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone

from core.models import ImmutableModel

__all__ = ["AuditLog"]


class AuditLog(ImmutableModel):
    class Action(models.TextChoices):
        VIEW = "view", "View"
        CHANGE = "change", "Change"
        CREATE = "create", "Create"
        DOWNLOAD = "download", "Download"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Kept as written: the row must still say who it was if the account is renamed or removed.
    username = models.CharField(max_length=150, blank=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    object_type = models.CharField(max_length=50, help_text="e.g. rx.patient, rx.prescription, rx.prescription.file")
    object_id = models.CharField(max_length=64)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    path = models.CharField(max_length=500, blank=True)
    detail = models.CharField(max_length=500, blank=True)

    change_refused = "Audit log entries cannot be changed."
    delete_refused = "Audit log entries cannot be deleted."

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "at"])]
        verbose_name = "audit log entry"
        verbose_name_plural = "audit log"

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.username or '-'} {self.action} {self.object_type} {self.object_id}"
