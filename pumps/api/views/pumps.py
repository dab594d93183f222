"""Clinics, their patients and pumps, programs, refills, appointments and the refill schedule (API).

Clinic staff manage their own clinics' records; superusers read every clinic's; pharmacists read
only the clinics, patients and pumps of prescriptions in review or decided by them
(``pumps.selectors``); anyone else gets 404. Views are thin: parse with a serializer, call
``pumps.services.pumps`` (which recomputes the schedule), record the access in the PHI audit log, render.
"""

from decimal import ROUND_CEILING, Decimal

from django.db import transaction
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from pumps.models import (
    LABELLED_CONCENTRATIONS,
    Pump,
    PumpManufacturer,
    PumpModel,
    PumpProgram,
    PumpRefill,
    RefillAppointment,
)
from pumps.selectors import (
    can_manage_clinic,
    can_manage_pump,
    clinic_for,
    clinic_patients,
    clinics_visible_to,
    pump_for,
    pump_list,
    pumps_visible_to,
)
from pumps.services import pumps as pump_services
from pumps.services.schedules import pump_schedule_compute
from rx.models import Clinic, Patient
from rx.services import audit
from rx.services import patients as patient_services

# --- serializers --------------------------------------------------------------------------


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
    reservoir_volume_ml = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                                   help_text="20 or 40; defaults from the model.")
    alarm_volume_ml = serializers.DecimalField(max_digits=5, decimal_places=2)
    warnings = WarningSerializer(many=True, read_only=True)

    class Meta:
        model = Pump
        fields = [
            "id", "patient", "patient_name", "manufacturer", "model", "serial_number", "reservoir_volume_ml",
            "alarm_volume_ml", "implanted_on", "battery_replacement_on", "active", "notes",
            "alarm_date", "empty_date", "stability_limit_date", "refill_due", "next_appointment_at", "ship_by",
            "expected_delivery", "has_critical_warning", "warnings", "schedule_computed_at",
        ]
        read_only_fields = [
            "alarm_date", "empty_date", "stability_limit_date", "refill_due", "next_appointment_at", "ship_by",
            "expected_delivery", "has_critical_warning", "schedule_computed_at",
        ]
        # Uniqueness and the model's rules are checked by pumps.services.pumps (400 naming the field).
        validators = []

    def __init__(self, *args, clinic: Clinic | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if clinic is not None:
            # Only this clinic's patients can be chosen: any other id is "does not exist".
            self.fields["patient"].queryset = clinic.patients.all()

    def get_patient_name(self, pump) -> str:
        return str(pump.patient)


class ProgramSerializer(serializers.ModelSerializer):
    daily_dose_mcg = serializers.DecimalField(max_digits=9, decimal_places=3, help_text="mcg/day, > 0")
    concentration_mcg_per_ml = serializers.DecimalField(
        max_digits=8, decimal_places=2,
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
    residual_withdrawn_ml = serializers.DecimalField(max_digits=5, decimal_places=2, required=False,
                                                     default=Decimal("0"))

    class Meta:
        model = PumpRefill
        fields = ["id", "filled_at", "volume_filled_ml", "concentration_mcg_per_ml", "residual_withdrawn_ml", "notes",
                  "created_at"]
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


def schedule_payload(pump: Pump, schedule) -> dict:
    """Render a ``pumps.schedule.schedule.Schedule`` for the API and the pages."""
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


# --- helpers ------------------------------------------------------------------------------

def _managed_clinic(request, clinic_id) -> Clinic:
    clinic = clinic_for(request.user, clinic_id)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not can_manage_clinic(request.user, clinic):
        raise PermissionDenied("Only the clinic's staff can change its records.")
    return clinic


def _managed_pump(request, pump_id, *, history: bool = False) -> Pump:
    pump = pump_for(request.user, pump_id, history=history)
    if request.method not in ("GET", "HEAD", "OPTIONS") and not can_manage_pump(request.user, pump):
        raise PermissionDenied("Only the clinic's staff can change its pumps.")
    return pump


def _audit(request, action, obj, detail=""):
    audit.audit_record(user=request.user, action=action, obj=obj, request=request, detail=detail)


def _audit_many(request, objects, detail=""):
    audit.audit_record_many(user=request.user, action=audit.Action.VIEW, objects=objects, request=request,
                            detail=detail)


class _PumpScoped:
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Resolve the pump before parsing anything: an outsider learns nothing, not even a 400.
        self.pump()

    def pump(self) -> Pump:
        if not hasattr(self, "_pump"):
            self._pump = _managed_pump(self.request, self.kwargs["pk"])
        return self._pump


# --- views --------------------------------------------------------------------------------

class ClinicListView(generics.ListAPIView):
    """The clinics the user works for (every clinic for superusers; for pharmacists, the clinics of
    patients whose prescriptions they may see)."""

    serializer_class = ClinicSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return clinics_visible_to(self.request.user).order_by("name")


class _ClinicScoped:
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.clinic()

    def clinic(self) -> Clinic:
        if not hasattr(self, "_clinic"):
            self._clinic = _managed_clinic(self.request, self.kwargs["clinic_id"])
        return self._clinic


class ClinicPatientListView(_ClinicScoped, generics.ListCreateAPIView):
    """List or add the clinic's patients."""

    serializer_class = ClinicPatientSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Patient.objects.none()
        return clinic_patients(self.clinic(), self.request.user)

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        ids = [row["id"] for row in response.data["results"]]
        _audit_many(request, Patient.objects.filter(pk__in=ids), detail=f"clinic {self.clinic().pk} patient list")
        return response

    def perform_create(self, serializer):
        patient = patient_services.patient_create(user=self.request.user, clinic_id=self.clinic().pk,
                                                  request=self.request, **serializer.validated_data)
        patient.pump_count = 0
        serializer.instance = patient


class ClinicPumpListView(_ClinicScoped, generics.ListCreateAPIView):
    """List the clinic's pumps (with their stored schedule) or register one."""

    serializer_class = PumpSerializer

    def get_serializer(self, *args, **kwargs):
        clinic = None if getattr(self, "swagger_fake_view", False) else self.clinic()
        kwargs.setdefault("context", self.get_serializer_context())
        return PumpSerializer(*args, clinic=clinic, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Pump.objects.none()
        return pump_list(pumps_visible_to(self.request.user).filter(patient__clinic=self.clinic())).order_by(
            "ship_by", "patient__last_name", "id"
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        ids = [row["id"] for row in response.data["results"]]
        _audit_many(request, Pump.objects.filter(pk__in=ids), detail=f"clinic {self.clinic().pk} pump list")
        return response

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("active", None)  # a new pump is active
        with transaction.atomic():
            pump = pump_services.pump_create(**data)
            _audit(self.request, audit.Action.CREATE, pump)
        serializer.instance = Pump.objects.select_related("patient").get(pk=pump.pk)


class PumpDetailView(_PumpScoped, APIView):
    """Read, change or retire a pump. DELETE retires it (``active`` false): its history is kept."""

    @extend_schema(responses=PumpSerializer)
    def get(self, request, pk):
        pump = self.pump()
        _audit(request, audit.Action.VIEW, pump)
        return Response(PumpSerializer(pump).data)

    @extend_schema(request=PumpSerializer, responses=PumpSerializer)
    def patch(self, request, pk):
        pump = self.pump()
        serializer = PumpSerializer(pump, data=request.data, partial=True, clinic=pump.patient.clinic)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            pump = pump_services.pump_update(pump=pump, **serializer.validated_data)
            _audit(request, audit.Action.CHANGE, pump, detail=",".join(sorted(serializer.validated_data)))
        return Response(PumpSerializer(Pump.objects.select_related("patient").get(pk=pump.pk)).data)

    @extend_schema(request=PumpSerializer, responses=PumpSerializer)
    def put(self, request, pk):
        return self.patch(request, pk)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        pump = self.pump()
        with transaction.atomic():
            pump_services.pump_deactivate(pump=pump)
            _audit(request, audit.Action.CHANGE, pump, detail="deactivated")
        return Response(status=status.HTTP_204_NO_CONTENT)


class _PumpChildListView(_PumpScoped, generics.ListCreateAPIView):
    related_name = ""  # names the history in the audit row; each subclass orders its own queryset

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        _audit(request, audit.Action.VIEW, self.pump(), detail=self.related_name)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            obj = self.perform_service(dict(serializer.validated_data))
            _audit(request, audit.Action.CREATE, obj)
        return Response(self.get_serializer(obj).data, status=status.HTTP_201_CREATED)


class PumpProgramListView(_PumpChildListView):
    """The pump's program history (oldest first), or POST a new program."""

    serializer_class = ProgramSerializer
    related_name = "programs"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PumpProgram.objects.none()
        return self.pump().programs.order_by("effective_at", "id")

    def perform_service(self, data):
        return pump_services.pump_program_set(pump=self.pump(), user=self.request.user, **data)


class PumpRefillListView(_PumpChildListView):
    """The pump's refills (newest first), or POST a refill."""

    serializer_class = RefillSerializer
    related_name = "refills"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PumpRefill.objects.none()
        return self.pump().refills.order_by("-filled_at", "-id")

    def perform_service(self, data):
        return pump_services.pump_refill_record(pump=self.pump(), user=self.request.user, **data)


class PumpAppointmentListView(_PumpChildListView):
    """The pump's appointments (newest first), or POST the next one (replaces a scheduled one)."""

    serializer_class = AppointmentSerializer
    related_name = "appointments"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RefillAppointment.objects.none()
        return self.pump().appointments.order_by("-scheduled_at", "-id")

    def perform_service(self, data):
        return pump_services.pump_appointment_set(pump=self.pump(), user=self.request.user, **data)


class PumpAppointmentDetailView(_PumpScoped, APIView):
    """Mark a scheduled appointment done or cancelled."""

    @extend_schema(request=AppointmentStatusSerializer, responses=AppointmentSerializer)
    def patch(self, request, pk, appointment_id):
        pump = self.pump()
        try:
            appointment = pump.appointments.get(pk=int(appointment_id))
        except (RefillAppointment.DoesNotExist, ValueError):
            raise NotFound("Appointment not found.") from None
        serializer = AppointmentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with transaction.atomic():
            appointment = pump_services.pump_appointment_status_set(
                appointment=appointment, status=serializer.validated_data["status"]
            )
            _audit(request, audit.Action.CHANGE, appointment, detail=appointment.status)
        return Response(AppointmentSerializer(appointment).data)


class PumpScheduleView(_PumpScoped, APIView):
    """The pump's refill schedule, computed now: dates, flow, the kit's ship-by date and the warnings."""

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request, pk):
        pump = _managed_pump(request, pk, history=True)
        schedule = pump_schedule_compute(pump=pump)
        _audit(request, audit.Action.VIEW, pump, detail="schedule")
        return Response(ScheduleSerializer(schedule_payload(pump, schedule)).data)
