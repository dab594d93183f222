"""Prescriptions and their status events.

The status machine is declared once, in ``rx.state`` (``Prescription.TRANSITIONS``); the only writer of
``status`` is ``rx.services.prescriptions.prescription_transition``, which records a
``PrescriptionEvent`` in the same transaction. What is decided about a prescription (findings,
decisions, the owner's responses) is in ``verification``; what is dispensed, in ``dispenses``.
"""

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from catalog.models import DEASchedule, Route

from ..dose import Strength
from ..state import QUEUE_STATUSES, TRANSITIONS, PrescriptionStatus
from .people import Patient, Prescriber

__all__ = ["Prescription", "VerificationQueueItem", "PrescriptionEvent", "DirectionUnit"]

# 21 CFR 1306: the most refills each schedule allows (None: as written).
MAX_REFILLS_BY_SCHEDULE = {DEASchedule.II: 0, DEASchedule.III: 5, DEASchedule.IV: 5}
CONTROLLED_REFILL_WINDOW = relativedelta(months=6)  # Schedules III-IV


class DirectionUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"
    ML = "mL", "mL"
    UNIT = "unit", "tablet / capsule / ampule"


def prescription_file_path(instance, filename):
    """Return where an uploaded prescription document is stored (a random name, by month)."""
    # The name never comes from the user: the content decides the extension (see services.uploads).
    ext = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
    return f"prescriptions/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.{ext}"


# The name the migrations (rx 0001, 0002) import; the same function, so the field state is unchanged.
_upload_to = prescription_file_path


def prescription_expiry(*, written: date, schedule: str) -> date:
    """Return the last day a prescription written on ``written`` may be filled.

    Schedules III-IV: six months (21 CFR 1306.22). Everything else, Schedule II and V included
    (federal law sets no limit there; state law does): ``RX_NONCONTROLLED_EXPIRY_DAYS``.
    """
    if schedule in (DEASchedule.III, DEASchedule.IV):
        return written + CONTROLLED_REFILL_WINDOW
    return written + timedelta(days=settings.RX_NONCONTROLLED_EXPIRY_DAYS)


def legal_max_refills(schedule: str) -> int | None:
    return MAX_REFILLS_BY_SCHEDULE.get(schedule)


class Prescription(models.Model):
    """A prescription for one patient and one drug, and how much of it is left to dispense.

    Uploads arrive as a file only; a pharmacist transcribes the structured fields in review.
    ``fills_remaining`` counts the fills left (the first fill plus refills, capped by the
    schedule's legal limit), ``quantity_remaining`` the units left; fills use both up.
    """

    Status = PrescriptionStatus

    class Source(models.TextChoices):
        UPLOAD = "upload", "Uploaded image or PDF"
        TRANSFER = "transfer", "Transfer request"
        CLINIC = "clinic", "Entered by a clinic or the pharmacy"
        FHIR = "fhir", "FHIR MedicationRequest"

    class Priority(models.IntegerChoices):
        ROUTINE = 0, "Routine"
        URGENT = 1, "Urgent"

    # The state machine is declared once, in rx/state.py.
    TRANSITIONS = TRANSITIONS
    QUEUE_STATUSES = QUEUE_STATUSES

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="prescriptions")
    prescriber = models.ForeignKey(
        Prescriber, on_delete=models.PROTECT, null=True, blank=True, related_name="prescriptions"
    )
    # What the sender typed about the prescriber (name, npi, dea_number, practice, phone, fax, email):
    # kept with this prescription for the pharmacist to check; the shared Prescriber record (found by
    # NPI) is changed only by a pharmacist in the admin.
    prescriber_details_submitted = models.JSONField(default=dict, blank=True, editable=False)
    written_date = models.DateField(null=True, blank=True)
    drug = models.ForeignKey(
        "catalog.Drug", on_delete=models.PROTECT, null=True, blank=True, related_name="prescriptions"
    )
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prescriptions",
        help_text="The SKU written. Blank: any product of the drug with this route and strength.",
    )
    strength = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    strength_unit = models.CharField(max_length=20, blank=True)
    substitution_allowed = models.BooleanField(
        default=True, help_text="A generic of the same drug, strength and route may be dispensed."
    )
    # Structured directions (the sig).
    dose_amount = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True, validators=[MinValueValidator(Decimal("0.001"))]
    )
    dose_unit = models.CharField(max_length=4, choices=DirectionUnit.choices, blank=True)
    route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    times_per_day = models.DecimalField(
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        help_text="As needed: the most per day.",
        validators=[MinValueValidator(Decimal("0.001"))],
    )
    as_needed = models.BooleanField(default=False)
    sig = models.TextField("directions as written", blank=True)
    # Quantities.
    quantity = models.PositiveIntegerField(
        "quantity per fill", null=True, blank=True, validators=[MinValueValidator(1)]
    )
    refills_authorized = models.PositiveSmallIntegerField(default=0)
    fills_remaining = models.PositiveSmallIntegerField(default=0, editable=False)
    quantity_remaining = models.PositiveIntegerField(default=0, editable=False)
    days_supply = models.PositiveSmallIntegerField(null=True, blank=True, validators=[MinValueValidator(1)])
    valid_until = models.DateField(
        null=True, blank=True, help_text="The prescriber's own end of validity (FHIR validityPeriod.end), if earlier."
    )
    expires_on = models.DateField(null=True, blank=True, editable=False)
    # Where it came from.
    source = models.CharField(max_length=10, choices=Source.choices)
    file = models.FileField(upload_to=prescription_file_path, blank=True, max_length=200)
    file_content_type = models.CharField(max_length=40, blank=True, editable=False)
    external_id = models.CharField(max_length=200, blank=True, help_text="Identifier in the sending system.")
    transfer_pharmacy = models.CharField(max_length=200, blank=True)
    notes = models.TextField(blank=True, help_text="From the shopper or clinic.")
    # Workflow.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.RECEIVED, editable=False)
    priority = models.PositiveSmallIntegerField(choices=Priority.choices, default=Priority.ROUTINE, db_index=True)
    priority_reason = models.CharField(max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["status", "-priority", "created_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gt=0), name="prescription_quantity_positive"
            ),
            models.CheckConstraint(condition=Q(quantity_remaining__gte=0), name="prescription_qty_left_non_negative"),
            models.CheckConstraint(condition=Q(fills_remaining__gte=0), name="prescription_fills_left_non_negative"),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True)
                | Q(quantity_remaining__lte=F("quantity") * (F("refills_authorized") + 1)),
                name="prescription_qty_left_le_total",
            ),
            models.CheckConstraint(
                condition=Q(fills_remaining__lte=F("refills_authorized") + 1), name="prescription_fills_left_le_total"
            ),
            models.CheckConstraint(
                condition=Q(days_supply__isnull=True) | Q(days_supply__gt=0), name="prescription_days_supply_positive"
            ),
            models.CheckConstraint(
                condition=Q(dose_amount__isnull=True) | Q(dose_amount__gt=0), name="prescription_dose_positive"
            ),
            models.CheckConstraint(
                condition=Q(times_per_day__isnull=True) | Q(times_per_day__gt=0),
                name="prescription_times_per_day_positive",
            ),
            models.CheckConstraint(
                condition=Q(
                    status__in=["received", "in_review", "approved", "rejected", "needs_information", "expired"]
                ),
                name="prescription_status_known",
            ),
        ]

    def __str__(self):
        what = self.product or self.drug or "untranscribed"
        return f"Rx {self.pk} {what} for {self.patient}"

    # Written only by the services, with conditional UPDATEs (status transitions, fills), so a
    # form saved from a stale copy can never put back a status or a quantity already used up.
    SERVICE_FIELDS = frozenset({"status", "fills_remaining", "quantity_remaining"})

    def save(self, *args: Any, **kwargs: Any) -> None:
        recomputed = self.apply_derived_fields()
        if not self._state.adding and kwargs.get("update_fields") is None:
            protected = self.SERVICE_FIELDS - ({"fills_remaining", "quantity_remaining"} if recomputed else set())
            kwargs["update_fields"] = [
                f.name for f in self._meta.concrete_fields if not f.primary_key and f.name not in protected
            ]
        super().save(*args, **kwargs)

    # --- derived ---------------------------------------------------------------------------
    @property
    def schedule(self) -> str:
        return self.drug.dea_schedule if self.drug_id else ""

    @property
    def is_controlled(self) -> bool:
        return bool(self.schedule)

    @property
    def is_urgent(self) -> bool:
        return self.priority == self.Priority.URGENT

    @property
    def fills_allowed(self) -> int:
        """The first fill plus the refills the schedule lets us dispense."""
        limit = legal_max_refills(self.schedule)
        refills = self.refills_authorized if limit is None else min(self.refills_authorized, limit)
        return refills + 1

    def is_expired_on(self, day: date) -> bool:
        return self.expires_on is not None and day > self.expires_on

    REQUIRED_FOR_APPROVAL = (
        "prescriber_id",
        "written_date",
        "drug_id",
        "dose_amount",
        "dose_unit",
        "route",
        "times_per_day",
        "quantity",
        "days_supply",
    )

    def missing_fields(self) -> list[str]:
        """Names of the structured fields approval needs and that are still empty."""
        missing = [name.removesuffix("_id") for name in self.REQUIRED_FOR_APPROVAL if getattr(self, name) in (None, "")]
        if not self.product_id and self.strength is None:
            missing.append("product")
        return missing

    def can_transition(self, target: str) -> bool:
        return target in self.TRANSITIONS.get(self.Status(self.status), set())

    def clean(self):
        errors = {}
        if self.product_id and self.drug_id and self.product.drug_id != self.drug_id:
            errors["product"] = "The product is not a form of the prescribed drug."
        if self.product_id and self.route and self.product.route != self.route:
            errors["route"] = f"The product is for {self.product.route} use, not {self.route}."
        if errors:
            raise ValidationError(errors)

    def apply_derived_fields(self) -> bool:
        """Fill what follows from the product and the dates: drug, route, strength, expiry,
        and (before the first fill) what is left to dispense. Return True when the amounts
        left were recomputed."""
        if self.product_id:
            product = self.product
            self.drug_id = product.drug_id
            self.route = self.route or product.route
            self.strength = product.strength
            self.strength_unit = product.strength_unit
        if self.written_date and self.drug_id:
            self.expires_on = prescription_expiry(written=self.written_date, schedule=self.schedule)
            if self.valid_until and self.valid_until < self.expires_on:
                self.expires_on = self.valid_until
        if self.has_dispenses():
            return False
        self.fills_remaining = self.fills_allowed if self.quantity else 0
        self.quantity_remaining = (self.quantity or 0) * self.fills_remaining
        return True

    def has_dispenses(self) -> bool:
        return self.pk is not None and self.dispenses.exists()

    def dose_strength(self) -> Strength | None:
        """The ``rx.dose.Strength`` of the product, or of the prescription's own strength."""
        if self.product_id:
            p = self.product
            return Strength(p.strength, p.strength_unit, p.concentration_mcg_per_ml, p.volume_ml)
        if self.strength is not None:
            return Strength(self.strength, self.strength_unit)
        return None


class VerificationQueueItem(Prescription):
    """The pharmacist's verification queue (an admin view of prescriptions waiting on review)."""

    class Meta:
        proxy = True
        verbose_name = "prescription to verify"
        verbose_name_plural = "verification queue"


class PrescriptionEvent(models.Model):
    """One status change of a prescription, written with the change in one transaction."""

    prescription = models.ForeignKey(Prescription, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=20, blank=True)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status or '-'} -> {self.to_status}"
