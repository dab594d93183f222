"""Serializers of the pumps API: clinics, clinic patients, pumps and their history, the live schedule,
kit orders and kit alerts. Stored schedule fields are read-only: ``pumps.services`` writes them."""

from decimal import ROUND_CEILING, Decimal

from rest_framework import serializers

from pumps.models import (
    LABELLED_CONCENTRATIONS,
    KitAlert,
    KitOrder,
    Pump,
    PumpManufacturer,
    PumpModel,
    PumpProgram,
    PumpRefill,
    RefillAppointment,
)
from pumps.schedule.schedule import Schedule
from rx.models import Clinic, Patient


class ClinicSerializer(serializers.ModelSerializer):
    class Meta:
        model = Clinic
        fields = ["id", "name", "email", "phone", "time_zone", "refill_buffer_days"]


class ClinicPatientSerializer(serializers.ModelSerializer):
    pump_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Patient
        fields = ["id", "first_name", "last_name", "date_of_birth", "sex", "pump_count", "created_at"]
        read_only_fields = ["id", "pump_count", "created_at"]


class WarningSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.ChoiceField(choices=["critical", "warning"])
    message = serializers.CharField()


class PumpSerializer(serializers.ModelSerializer):
    """A pump with its stored schedule summary (read-only; recomputed by the services)."""

    patient = serializers.PrimaryKeyRelatedField(queryset=Patient.objects.none())
    patient_name = serializers.SerializerMethodField()
    manufacturer = serializers.ChoiceField(choices=PumpManufacturer.choices, required=False)
    model = serializers.ChoiceField(choices=PumpModel.choices)
    reservoir_volume_ml = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, help_text="20 or 40; defaults from the model."
    )
    alarm_volume_ml = serializers.DecimalField(max_digits=5, decimal_places=2)
    warnings = WarningSerializer(many=True, read_only=True)

    class Meta:
        model = Pump
        fields = [
            "id",
            "patient",
            "patient_name",
            "manufacturer",
            "model",
            "serial_number",
            "reservoir_volume_ml",
            "alarm_volume_ml",
            "implanted_on",
            "battery_replacement_on",
            "active",
            "notes",
            "alarm_date",
            "empty_date",
            "stability_limit_date",
            "refill_due",
            "next_appointment_at",
            "ship_by",
            "expected_delivery",
            "has_critical_warning",
            "warnings",
            "schedule_computed_at",
        ]
        read_only_fields = [
            "alarm_date",
            "empty_date",
            "stability_limit_date",
            "refill_due",
            "next_appointment_at",
            "ship_by",
            "expected_delivery",
            "has_critical_warning",
            "schedule_computed_at",
        ]
        # Uniqueness and the model's rules are checked by pumps.services.pumps (400 naming the field).
        validators: list = []

    def __init__(self, *args, clinic: Clinic | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if clinic is not None:
            # Only this clinic's patients can be chosen: any other id is "does not exist".
            self.fields["patient"].queryset = clinic.patients.all()  # type: ignore[attr-defined]  # a related field

    def get_patient_name(self, pump) -> str:
        return str(pump.patient)


class ProgramSerializer(serializers.ModelSerializer):
    daily_dose_mcg = serializers.DecimalField(max_digits=9, decimal_places=3, help_text="mcg/day, > 0")
    concentration_mcg_per_ml = serializers.DecimalField(
        max_digits=8,
        decimal_places=2,
        help_text="mcg/mL, > 0; labelled: " + ", ".join(str(c) for c in LABELLED_CONCENTRATIONS),
    )
    effective_at = serializers.DateTimeField(required=False, help_text="Default: now.")

    class Meta:
        model = PumpProgram
        fields = ["id", "daily_dose_mcg", "concentration_mcg_per_ml", "effective_at", "created_at"]
        read_only_fields = ["id", "created_at"]


class RefillSerializer(serializers.ModelSerializer):
    volume_filled_ml = serializers.DecimalField(max_digits=5, decimal_places=2)
    concentration_mcg_per_ml = serializers.DecimalField(max_digits=8, decimal_places=2)
    residual_withdrawn_ml = serializers.DecimalField(
        max_digits=5, decimal_places=2, required=False, default=Decimal("0")
    )

    class Meta:
        model = PumpRefill
        fields = [
            "id",
            "filled_at",
            "volume_filled_ml",
            "concentration_mcg_per_ml",
            "residual_withdrawn_ml",
            "notes",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]


class AppointmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RefillAppointment
        fields = ["id", "scheduled_at", "status", "created_at", "updated_at"]
        read_only_fields = ["id", "status", "created_at", "updated_at"]


class AppointmentStatusSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=[RefillAppointment.Status.DONE, RefillAppointment.Status.CANCELLED])


class ScheduleSerializer(serializers.Serializer):
    """The live refill schedule (computed at request time from the pump's history)."""

    pump = serializers.IntegerField()
    computed_at = serializers.DateTimeField()
    flow_ml_per_day = serializers.CharField(allow_null=True, help_text="Decimal, rounded up.")
    current_volume_ml = serializers.CharField(allow_null=True, help_text="Decimal, rounded down.")
    alarm_at = serializers.DateTimeField(allow_null=True)
    alarm_date = serializers.DateField(allow_null=True)
    empty_at = serializers.DateTimeField(allow_null=True)
    empty_date = serializers.DateField(allow_null=True)
    stability_limit_date = serializers.DateField(allow_null=True)
    refill_due = serializers.DateField(allow_null=True)
    appointment_at = serializers.DateTimeField(allow_null=True)
    need_by = serializers.DateField(allow_null=True)
    required_delivery = serializers.DateField(allow_null=True)
    ship_by = serializers.DateField(allow_null=True)
    ship_by_deadline = serializers.DateTimeField(allow_null=True)
    expected_delivery = serializers.DateField(allow_null=True)
    kit_feasible = serializers.BooleanField(allow_null=True)
    has_critical_warning = serializers.BooleanField()
    warnings = WarningSerializer(many=True)


def _decimal_text(value: Decimal | None, places: str, rounding: str) -> str | None:
    if value is None:
        return None
    return f"{value.quantize(Decimal(places), rounding=rounding).normalize():f}"


def schedule_payload(pump: Pump, schedule: Schedule) -> dict:
    """Render a live ``pumps.schedule.schedule.Schedule`` for ``ScheduleSerializer``."""
    return {
        "pump": pump.pk,
        "computed_at": schedule.now,
        "flow_ml_per_day": _decimal_text(schedule.flow_ml_per_day, "0.000001", ROUND_CEILING),
        "current_volume_ml": _decimal_text(schedule.current_volume_ml, "0.01", "ROUND_FLOOR"),
        "alarm_at": schedule.alarm_at,
        "alarm_date": schedule.alarm_date,
        "empty_at": schedule.empty_at,
        "empty_date": schedule.empty_date,
        "stability_limit_date": schedule.stability_limit_date,
        "refill_due": schedule.refill_due,
        "appointment_at": schedule.appointment_at,
        "need_by": schedule.need_by,
        "required_delivery": schedule.required_delivery,
        "ship_by": schedule.ship_by,
        "ship_by_deadline": schedule.ship_by_deadline,
        "expected_delivery": schedule.expected_delivery,
        "kit_feasible": schedule.kit_feasible,
        "has_critical_warning": schedule.has_critical_warning,
        "warnings": [{"code": w.code, "severity": w.severity, "message": w.message} for w in schedule.warnings],
    }


class KitOrderSerializer(serializers.ModelSerializer):
    order_number = serializers.CharField(source="order.number", default=None, read_only=True)
    order_status = serializers.CharField(source="order.status", default=None, read_only=True)
    product = serializers.CharField(source="product.ndc", read_only=True)
    product_name = serializers.CharField(source="product.name", read_only=True)
    open_alerts = serializers.SerializerMethodField()

    class Meta:
        model = KitOrder
        fields = [
            "id",
            "pump",
            "patient",
            "refill",
            "appointment",
            "product",
            "product_name",
            "quantity",
            "source",
            "status",
            "ship_by",
            "expected_delivery",
            "required_delivery",
            "dispatched_at",
            "order_number",
            "order_status",
            "last_error",
            "open_alerts",
            "created_at",
        ]
        read_only_fields = fields

    def get_open_alerts(self, kit) -> list[str]:
        return [a.reason for a in kit.alerts.all() if a.resolved_at is None]


class KitOrderCreateSerializer(serializers.Serializer):
    pump = serializers.IntegerField()
    appointment = serializers.IntegerField(required=False, allow_null=True)
    product = serializers.CharField(required=False, allow_blank=True, help_text="Kit NDC (default: by concentration).")
    shipping_name = serializers.CharField(max_length=200)
    shipping_line1 = serializers.CharField(max_length=200)
    shipping_line2 = serializers.CharField(max_length=200, required=False, allow_blank=True)
    shipping_city = serializers.CharField(max_length=100)
    shipping_state = serializers.CharField(max_length=50)
    shipping_postal_code = serializers.CharField(max_length=20)
    shipping_country = serializers.CharField(max_length=2, required=False, allow_blank=True)
    shipping_phone = serializers.CharField(max_length=30, required=False, allow_blank=True)


class KitOrderCancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why the kit is cancelled (recorded on the order).")


class KitAlertSerializer(serializers.ModelSerializer):
    class Meta:
        model = KitAlert
        fields = [
            "id",
            "pump",
            "kit_order",
            "clinic",
            "reason",
            "message",
            "level",
            "opened_at",
            "last_escalated_at",
            "resolved_at",
            "resolved_by",
            "resolution",
        ]
        read_only_fields = fields


class KitAlertResolveSerializer(serializers.Serializer):
    resolution = serializers.CharField(max_length=2000)
