"""What was dispensed against a prescription."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from .prescriptions import Prescription

__all__ = ["Dispense"]


class Dispense(models.Model):
    """What was dispensed against a prescription (mirrors FHIR MedicationDispense)."""

    prescription = models.ForeignKey(Prescription, on_delete=models.PROTECT, related_name="dispenses")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    quantity = models.PositiveIntegerField()
    days_supply = models.PositiveSmallIntegerField()
    reference = models.CharField(max_length=100, help_text='What the fill is for, e.g. "order:PH-1234:line:5".')
    prepared_at = models.DateTimeField(default=timezone.now)
    handed_over_at = models.DateTimeField(null=True, blank=True)
    dispensed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["prepared_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="dispense_quantity_positive"),
            models.CheckConstraint(condition=Q(days_supply__gt=0), name="dispense_days_supply_positive"),
            models.CheckConstraint(
                condition=Q(handed_over_at__isnull=True) | Q(handed_over_at__gte=F("prepared_at")),
                name="dispense_handed_over_after_prepared",
            ),
            models.UniqueConstraint(fields=["prescription", "reference"], name="dispense_unique_reference"),
        ]

    def __str__(self):
        return f"{self.quantity} for {self.reference}"

    def clean(self):
        if self.handed_over_at and self.prepared_at and self.handed_over_at < self.prepared_at:
            raise ValidationError({"handed_over_at": "Cannot be handed over before it was prepared."})

    @property
    def effective_at(self):
        return self.handed_over_at or self.prepared_at
