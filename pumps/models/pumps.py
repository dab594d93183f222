"""Implanted intrathecal pumps, their program history, refills, refill appointments, and the stored
refill schedule.

The schedule fields on ``Pump`` (``alarm_at`` ... ``has_critical_warning``) are derived data: they are
written only by ``pumps.services.schedules`` (``Pump.store_schedule`` copies a ``pumps.schedule`` result onto
them), every time a program, refill or appointment changes. They are stored and indexed so that the daily kit scan
reads only the pumps that are due (``pumps.selectors.pumps_due_for_kit``).
"""

from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q

from ..state import AppointmentStatus

__all__ = [
    "PumpManufacturer",
    "PumpModel",
    "PUMP_MODEL_SPECS",
    "LABELLED_CONCENTRATIONS",
    "SCHEDULE_FIELDS",
    "Pump",
    "PumpProgram",
    "PumpRefill",
    "RefillAppointment",
]

# Intrathecal baclofen concentrations on the labels (DOMAIN.md section 4), in mcg/mL. Compounded
# concentrations exist, so any positive value up to MAX_CONCENTRATION is accepted.
LABELLED_CONCENTRATIONS = (Decimal("50"), Decimal("500"), Decimal("1000"), Decimal("2000"))
MAX_CONCENTRATION = Decimal("10000")
# A sanity bound that catches unit slips (mg typed as mcg x 1000), not a clinical limit.
MAX_DAILY_DOSE = Decimal("10000")


class PumpManufacturer(models.TextChoices):
    MEDTRONIC = "medtronic", "Medtronic"
    FLOWONIX = "flowonix", "Flowonix (Prometra)"


class PumpModel(models.TextChoices):
    SYNCHROMED_II_20 = "8637-20", "SynchroMed II 8637-20 (20 mL)"
    SYNCHROMED_II_40 = "8637-40", "SynchroMed II 8637-40 (40 mL)"
    PROMETRA_20 = "prometra-20", "Prometra (20 mL)"
    PROMETRA_40 = "prometra-40", "Prometra (40 mL)"


# model -> (manufacturer, reservoir volume in mL)
PUMP_MODEL_SPECS = {
    PumpModel.SYNCHROMED_II_20: (PumpManufacturer.MEDTRONIC, Decimal("20")),
    PumpModel.SYNCHROMED_II_40: (PumpManufacturer.MEDTRONIC, Decimal("40")),
    PumpModel.PROMETRA_20: (PumpManufacturer.FLOWONIX, Decimal("20")),
    PumpModel.PROMETRA_40: (PumpManufacturer.FLOWONIX, Decimal("40")),
}


# The stored schedule on ``Pump``: derived data, written together (``update_fields``), never edited.
SCHEDULE_FIELDS = (
    "current_refill",
    "flow_ml_per_day",
    "alarm_at",
    "alarm_date",
    "empty_at",
    "empty_date",
    "stability_limit_date",
    "refill_due",
    "next_appointment_at",
    "need_by",
    "required_delivery",
    "ship_by",
    "ship_by_deadline",
    "expected_delivery",
    "kit_feasible",
    "has_critical_warning",
    "warnings",
    "schedule_computed_at",
)
FLOW_PLACES = Decimal("1E-10")  # flow_ml_per_day's decimal_places


def _model_matches_spec() -> Q:
    condition = Q(pk__in=[])
    for model, (manufacturer, volume) in PUMP_MODEL_SPECS.items():
        condition |= Q(model=model, manufacturer=manufacturer, reservoir_volume_ml=volume)
    return condition


class Pump(models.Model):
    """An implanted pump of a clinic's patient."""

    patient = models.ForeignKey("rx.Patient", on_delete=models.PROTECT, related_name="pumps")
    manufacturer = models.CharField(max_length=20, choices=PumpManufacturer.choices)
    model = models.CharField(max_length=20, choices=PumpModel.choices)
    serial_number = models.CharField(max_length=64)
    reservoir_volume_ml = models.DecimalField(max_digits=5, decimal_places=2)
    alarm_volume_ml = models.DecimalField(
        max_digits=5, decimal_places=2, help_text="Low-reservoir alarm volume programmed in the pump (mL)."
    )
    implanted_on = models.DateField()
    battery_replacement_on = models.DateField(
        null=True, blank=True, help_text="Expected elective battery replacement date."
    )
    active = models.BooleanField(default=True)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Stored schedule (SCHEDULE_FIELDS): written only through store_schedule, by pumps.services.schedules.
    current_refill = models.ForeignKey(
        "pumps.PumpRefill",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="The refill the schedule counts from; a kit dispatch can key its idempotency on it.",
    )
    flow_ml_per_day = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True, editable=False)
    alarm_at = models.DateTimeField(null=True, blank=True, editable=False)
    alarm_date = models.DateField(null=True, blank=True, editable=False)
    empty_at = models.DateTimeField(null=True, blank=True, editable=False)
    empty_date = models.DateField(null=True, blank=True, editable=False)
    stability_limit_date = models.DateField(null=True, blank=True, editable=False)
    refill_due = models.DateField(null=True, blank=True, editable=False)
    next_appointment_at = models.DateTimeField(null=True, blank=True, editable=False)
    need_by = models.DateField(null=True, blank=True, editable=False)
    required_delivery = models.DateField(null=True, blank=True, editable=False)
    ship_by = models.DateField(null=True, blank=True, editable=False)
    ship_by_deadline = models.DateTimeField(null=True, blank=True, editable=False)
    expected_delivery = models.DateField(null=True, blank=True, editable=False)
    kit_feasible = models.BooleanField(null=True, editable=False)
    has_critical_warning = models.BooleanField(default=False, editable=False)
    warnings = models.JSONField(default=list, blank=True, editable=False)
    schedule_computed_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        db_table = "rx_pump"  # the table it had in rx (moved app, same data)
        ordering = ["patient__last_name", "patient__first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["manufacturer", "serial_number"], name="pump_serial_unique_per_manufacturer"
            ),
            models.CheckConstraint(condition=Q(reservoir_volume_ml__in=[20, 40]), name="pump_reservoir_20_or_40"),
            models.CheckConstraint(
                condition=Q(alarm_volume_ml__gt=0) & Q(alarm_volume_ml__lt=F("reservoir_volume_ml")),
                name="pump_alarm_volume_within_reservoir",
            ),
            models.CheckConstraint(condition=_model_matches_spec(), name="pump_model_matches_manufacturer_and_volume"),
            models.CheckConstraint(
                condition=Q(battery_replacement_on__isnull=True) | Q(battery_replacement_on__gte=F("implanted_on")),
                name="pump_battery_after_implant",
            ),
        ]
        indexes = [
            # The daily kit scan: active pumps whose kit must ship by a date. Partial, so pumps
            # without a schedule or no longer in use cost nothing.
            models.Index(
                fields=["ship_by"], name="pump_active_ship_by_idx", condition=Q(active=True, ship_by__isnull=False)
            ),
            # Pharmacy staff's list of pumps at risk.
            models.Index(
                fields=["alarm_at"],
                name="pump_active_critical_idx",
                condition=Q(active=True, has_critical_warning=True),
            ),
        ]

    def __str__(self):
        return f"{self.get_model_display()} #{self.serial_number}"

    @property
    def clinic_id(self):
        return self.patient.clinic_id

    def store_schedule(self, schedule, *, current_refill_id: int | None, computed_at) -> bool:
        """Copy a ``pumps.schedule.schedule.Schedule`` onto the stored fields (no save).

        Returns whether any stored value changed (``schedule_computed_at`` aside). The flow is rounded
        up to the column's ten places (towards safety, like the engine).
        """
        values = {
            "current_refill_id": current_refill_id,
            "flow_ml_per_day": (
                schedule.flow_ml_per_day.quantize(FLOW_PLACES, rounding=ROUND_CEILING)
                if schedule.flow_ml_per_day is not None
                else None
            ),
            "alarm_at": schedule.alarm_at,
            "alarm_date": schedule.alarm_date,
            "empty_at": schedule.empty_at,
            "empty_date": schedule.empty_date,
            "stability_limit_date": schedule.stability_limit_date,
            "refill_due": schedule.refill_due,
            "next_appointment_at": schedule.appointment_at,
            "need_by": schedule.need_by,
            "required_delivery": schedule.required_delivery,
            "ship_by": schedule.ship_by,
            "ship_by_deadline": schedule.ship_by_deadline,
            "expected_delivery": schedule.expected_delivery,
            "kit_feasible": schedule.kit_feasible,
            "has_critical_warning": schedule.has_critical_warning,
            "warnings": [{"code": w.code, "severity": w.severity, "message": w.message} for w in schedule.warnings],
        }
        changed = any(getattr(self, name) != value for name, value in values.items())
        for name, value in values.items():
            setattr(self, name, value)
        self.schedule_computed_at = computed_at
        return changed

    def clean(self):
        errors = {}
        spec = PUMP_MODEL_SPECS.get(self.model)
        if spec:
            manufacturer, volume = spec
            if self.manufacturer and self.manufacturer != manufacturer:
                errors["manufacturer"] = f"Model {self.model} is made by {PumpManufacturer(manufacturer).label}."
            if self.reservoir_volume_ml is not None and Decimal(self.reservoir_volume_ml) != volume:
                errors["reservoir_volume_ml"] = f"Model {self.model} has a {volume} mL reservoir."
        if self.reservoir_volume_ml is not None and Decimal(self.reservoir_volume_ml) not in (Decimal(20), Decimal(40)):
            errors.setdefault("reservoir_volume_ml", "The reservoir volume is 20 or 40 mL.")
        if self.alarm_volume_ml is not None and self.reservoir_volume_ml is not None:
            if not 0 < self.alarm_volume_ml < self.reservoir_volume_ml:
                errors["alarm_volume_ml"] = "The alarm volume must be above 0 and below the reservoir volume."
        if self.patient_id and self.patient.clinic_id is None:
            errors["patient"] = "Pumps belong to clinic patients."
        if self.battery_replacement_on and self.implanted_on and self.battery_replacement_on < self.implanted_on:
            errors["battery_replacement_on"] = "The battery replacement date is before the implant date."
        if errors:
            raise ValidationError(errors)


class PumpProgram(models.Model):
    """A pump program: from ``effective_at`` on, ``daily_dose_mcg`` per day at ``concentration_mcg_per_ml``."""

    pump = models.ForeignKey(Pump, on_delete=models.CASCADE, related_name="programs")
    concentration_mcg_per_ml = models.DecimalField(
        max_digits=8, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    daily_dose_mcg = models.DecimalField(
        max_digits=9, decimal_places=3, validators=[MinValueValidator(Decimal("0.001"))]
    )
    effective_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "rx_pumpprogram"  # the table it had in rx (moved app, same data)
        ordering = ["pump", "effective_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pump", "effective_at"], name="pumpprogram_one_per_moment"),
            models.CheckConstraint(
                condition=Q(concentration_mcg_per_ml__gt=0), name="pumpprogram_concentration_positive"
            ),
            models.CheckConstraint(condition=Q(daily_dose_mcg__gt=0), name="pumpprogram_dose_positive"),
        ]

    def __str__(self):
        return (
            f"{self.daily_dose_mcg} mcg/day at {self.concentration_mcg_per_ml} mcg/mL from {self.effective_at:%Y-%m-%d}"
        )


class PumpRefill(models.Model):
    """A refill: the residual volume was withdrawn and ``volume_filled_ml`` of the drug put in."""

    pump = models.ForeignKey(Pump, on_delete=models.CASCADE, related_name="refills")
    filled_at = models.DateTimeField()
    volume_filled_ml = models.DecimalField(max_digits=5, decimal_places=2)
    concentration_mcg_per_ml = models.DecimalField(max_digits=8, decimal_places=2)
    residual_withdrawn_ml = models.DecimalField(max_digits=5, decimal_places=2, default=Decimal("0"))
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "rx_pumprefill"  # the table it had in rx (moved app, same data)
        ordering = ["pump", "-filled_at", "-id"]
        get_latest_by = "filled_at"
        constraints = [
            models.UniqueConstraint(fields=["pump", "filled_at"], name="pumprefill_one_per_moment"),
            models.CheckConstraint(
                condition=Q(volume_filled_ml__gt=0) & Q(volume_filled_ml__lte=40),
                name="pumprefill_volume_positive_and_at_most_40",
            ),
            models.CheckConstraint(
                condition=Q(concentration_mcg_per_ml__gt=0), name="pumprefill_concentration_positive"
            ),
            models.CheckConstraint(
                condition=Q(residual_withdrawn_ml__gte=0) & Q(residual_withdrawn_ml__lte=40),
                name="pumprefill_residual_within_0_and_40",
            ),
        ]

    def __str__(self):
        return f"{self.volume_filled_ml} mL of {self.concentration_mcg_per_ml} mcg/mL on {self.filled_at:%Y-%m-%d}"

    def clean(self):
        errors = {}
        if self.pump_id and self.volume_filled_ml is not None and self.volume_filled_ml > self.pump.reservoir_volume_ml:
            errors["volume_filled_ml"] = f"The reservoir holds {self.pump.reservoir_volume_ml} mL."
        if (
            self.pump_id
            and self.residual_withdrawn_ml is not None
            and self.residual_withdrawn_ml > self.pump.reservoir_volume_ml
        ):
            errors["residual_withdrawn_ml"] = f"The reservoir holds {self.pump.reservoir_volume_ml} mL."
        if errors:
            raise ValidationError(errors)


class RefillAppointment(models.Model):
    """A refill appointment at the clinic. A pump has at most one scheduled appointment: the next one."""

    Status = AppointmentStatus  # the moves between them: pumps/state.py

    pump = models.ForeignKey(Pump, on_delete=models.CASCADE, related_name="appointments")
    scheduled_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SCHEDULED)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "rx_refillappointment"  # the table it had in rx (moved app, same data)
        ordering = ["pump", "scheduled_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pump"], condition=Q(status="scheduled"), name="refillappointment_one_scheduled_per_pump"
            ),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "done", "cancelled"]), name="refillappointment_status_valid"
            ),
        ]

    def __str__(self):
        return f"{self.scheduled_at:%Y-%m-%d %H:%M} ({self.get_status_display()})"
