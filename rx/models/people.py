"""Clinics and their staff, patients. (Prescribers are added with the prescription issue.)"""

from django.conf import settings
from django.db import models
from django.db.models import Q

__all__ = ["Clinic", "ClinicMembership", "Patient"]


class Clinic(models.Model):
    """A clinic that orders for its patients (for example intrathecal pump refill kits)."""

    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    # Days before a pump's alarm date that the clinic wants to refill (DOMAIN.md: 3-10).
    refill_buffer_days = models.PositiveSmallIntegerField(default=7)
    staff = models.ManyToManyField(settings.AUTH_USER_MODEL, through="ClinicMembership", related_name="clinics")

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class ClinicMembership(models.Model):
    clinic = models.ForeignKey(Clinic, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="clinic_memberships")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clinic", "user"], name="clinicmembership_unique")]


class Patient(models.Model):
    """A person prescriptions are for. Belongs to a shopper's account or to a clinic (exactly one)."""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "O", "Other"
        UNKNOWN = "U", "Unknown"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="patients"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="patients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(account__isnull=False) & Q(clinic__isnull=True))
                | (Q(account__isnull=True) & Q(clinic__isnull=False)),
                name="patient_belongs_to_account_or_clinic",
            )
        ]

    def __str__(self):
        return f"{self.first_name} {self.last_name}"
