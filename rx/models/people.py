"""Clinics and their staff, patients (with the clinical facts the checks read), prescribers."""

from datetime import date
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from core.shipping import pharmacy_today

from .. import identifiers

__all__ = ["Clinic", "ClinicMembership", "Patient", "Prescriber", "date_of_birth_is_possible", "validate_time_zone"]


def validate_time_zone(value: str) -> None:
    """An IANA time zone name such as "America/New_York" (the pump schedule and pages read it)."""
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValidationError(f"{value!r} is not a known time zone (for example America/New_York).") from None


def date_of_birth_is_possible(day: date) -> bool:
    """Whether ``day`` can be someone's date of birth: not after the pharmacy's today.

    The one rule every way a patient comes in asks (``Patient.clean`` for forms and services, the
    API serializer, a FHIR contained Patient); each answers in its own words.
    """
    return day <= pharmacy_today()


class Clinic(models.Model):
    """A clinic that orders for its patients (for example intrathecal pump refill kits)."""

    name = models.CharField(max_length=200, unique=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York", validators=[validate_time_zone])
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

    def __str__(self):
        return f"{self.user} at {self.clinic}"


class Patient(models.Model):
    """A person prescriptions are for. Belongs to a shopper's account or to a clinic (exactly one).

    The clinical fields are read by the DUR checks (``rx.services.dur``): pregnancy and
    lactation, allergies (free text matched against active ingredients), renal impairment, and
    current medications, both as linked products and as free text (one medication per line or
    comma, optionally naming a route, e.g. "morphine epidural").
    """

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "O", "Other"
        UNKNOWN = "U", "Unknown"

    class Pregnancy(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        NOT_PREGNANT = "no", "Not pregnant"
        PREGNANT = "yes", "Pregnant"

    class RenalImpairment(models.TextChoices):
        UNKNOWN = "unknown", "Unknown"
        NONE = "none", "None"
        MILD = "mild", "Mild"
        MODERATE = "moderate", "Moderate"
        SEVERE = "severe", "Severe"

    account = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="patients"
    )
    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, null=True, blank=True, related_name="patients")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    pregnancy_status = models.CharField(max_length=7, choices=Pregnancy.choices, default=Pregnancy.UNKNOWN)
    is_lactating = models.BooleanField("breastfeeding", default=False)
    allergies = models.TextField(blank=True, help_text="Known drug allergies, one per line or comma separated.")
    renal_impairment = models.CharField(max_length=8, choices=RenalImpairment.choices, default=RenalImpairment.UNKNOWN)
    current_medications_text = models.TextField(
        "current medications (free text)",
        blank=True,
        help_text="Medications not bought here, one per line or comma, e.g. 'morphine epidural'.",
    )
    current_products = models.ManyToManyField(
        "catalog.Product", blank=True, related_name="+", help_text="Current medications bought here."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

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

    def clean(self):
        super().clean()
        if self.date_of_birth and not date_of_birth_is_possible(self.date_of_birth):
            raise ValidationError({"date_of_birth": "A date of birth cannot be in the future."})

    def age_on(self, day) -> int:
        """Return the patient's age in whole years on ``day``."""
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


def _validate_npi(value):
    if value and not identifiers.npi_is_valid(value):
        raise ValidationError("NPI must be 10 digits starting with 1 or 2 with a valid check digit.", code="npi")


def _validate_dea(value):
    if value and not identifiers.dea_is_valid(value):
        raise ValidationError("DEA number must be two letters and seven digits with a valid check digit.", code="dea")


class Prescriber(models.Model):
    """A practitioner who writes prescriptions.

    Forms (admin, API) validate NPI and DEA check digits. Records received from another system
    (a FHIR MedicationRequest) are kept as sent and an invalid number becomes a DUR finding, so
    the pharmacist resolves it before approval instead of the prescription being lost.
    """

    name = models.CharField(max_length=200)
    practice = models.CharField(max_length=200, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True, validators=[_validate_npi])
    dea_number = models.CharField(
        "DEA number",
        max_length=9,
        blank=True,
        validators=[_validate_dea],
        help_text="Required on prescriptions for controlled substances.",
    )
    phone = models.CharField(max_length=40, blank=True)
    fax = models.CharField(max_length=40, blank=True)
    email = models.EmailField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["npi"], condition=~Q(npi=""), name="prescriber_unique_npi")]

    def __str__(self):
        return f"{self.name} (NPI {self.npi})" if self.npi else self.name

    def clean(self):
        self.npi = (self.npi or "").strip()
        self.dea_number = (self.dea_number or "").strip().upper()

    @property
    def npi_valid(self) -> bool:
        return identifiers.npi_is_valid(self.npi)

    @property
    def dea_valid(self) -> bool:
        return identifiers.dea_is_valid(self.dea_number)
