"""Clinics, their patients and pumps, programs, refills, appointments and the refill schedule (API).

Clinic staff manage their own clinics' records; superusers read every clinic's; pharmacists read
only the clinics, patients and pumps of prescriptions in review or decided by them; anyone else
gets 404 (``pumps.access``). Views are thin: resolve the record through ``pumps.access``, parse with
a serializer, call ``pumps.services`` (which recomputes the schedule and writes the audit row of a
change), record what was shown (``access.record_view``), render.
"""

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import NotFound
from pumps import access
from pumps.api.serializers import (
    AppointmentSerializer,
    AppointmentStatusSerializer,
    ClinicPatientSerializer,
    ClinicSerializer,
    ProgramSerializer,
    PumpSerializer,
    RefillSerializer,
    ScheduleSerializer,
    schedule_payload,
)
from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.selectors import clinic_patients, pump_list
from pumps.services import pumps as pump_services
from pumps.services.schedules import pump_schedule_compute
from rx.models import Clinic, Patient
from rx.services import patients as patient_services


def _changes(request) -> bool:
    return request.method not in SAFE_METHODS


def _listed_ids(response) -> list[int]:
    return [row["id"] for row in response.data["results"]]


class _PumpScoped:
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Resolve the pump before parsing anything: an outsider learns nothing, not even a 400.
        self.pump()

    def pump(self) -> Pump:
        if not hasattr(self, "_pump"):
            self._pump = access.pump_for(self.request.user, self.kwargs["pk"], manage=_changes(self.request))
        return self._pump


class ClinicListView(generics.ListAPIView):
    """The clinics the user works for (every clinic for superusers; for pharmacists, the clinics of
    patients whose prescriptions they may see)."""

    serializer_class = ClinicSerializer
    permission_classes = [IsAuthenticated]

    def get_queryset(self):
        return access.clinics_visible_to(self.request.user).order_by("name")


class _ClinicScoped:
    permission_classes = [IsAuthenticated]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        self.clinic()

    def clinic(self) -> Clinic:
        if not hasattr(self, "_clinic"):
            self._clinic = access.clinic_for(self.request.user, self.kwargs["clinic_id"], manage=_changes(self.request))
        return self._clinic


class ClinicPatientListView(_ClinicScoped, generics.ListCreateAPIView):
    """List or add the clinic's patients."""

    serializer_class = ClinicPatientSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # OpenAPI schema generation
            return Patient.objects.none()
        return clinic_patients(access.clinic_patients_visible_to(self.request.user, self.clinic()))

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        access.record_views(
            request,
            Patient.objects.filter(pk__in=_listed_ids(response)),
            detail=f"clinic {self.clinic().pk} patient list",
        )
        return response

    def perform_create(self, serializer):
        patient = patient_services.patient_create(
            user=self.request.user, clinic_id=self.clinic().pk, request=self.request, **serializer.validated_data
        )
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
        return pump_list(access.pumps_visible_to(self.request.user).filter(patient__clinic=self.clinic())).order_by(
            "ship_by", "patient__last_name", "id"
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        access.record_views(
            request, Pump.objects.filter(pk__in=_listed_ids(response)), detail=f"clinic {self.clinic().pk} pump list"
        )
        return response

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("active", None)  # a new pump is active
        pump = pump_services.pump_create(**data, request=self.request)
        serializer.instance = Pump.objects.select_related("patient").get(pk=pump.pk)


class PumpDetailView(_PumpScoped, APIView):
    """Read, change or retire a pump. DELETE retires it (``active`` false): its history is kept."""

    @extend_schema(responses=PumpSerializer)
    def get(self, request, pk):
        pump = self.pump()
        access.record_view(request, pump)
        return Response(PumpSerializer(pump).data)

    @extend_schema(request=PumpSerializer, responses=PumpSerializer)
    def patch(self, request, pk):
        pump = self.pump()
        serializer = PumpSerializer(pump, data=request.data, partial=True, clinic=pump.patient.clinic)
        serializer.is_valid(raise_exception=True)
        pump = pump_services.pump_update(pump=pump, request=request, **serializer.validated_data)
        return Response(PumpSerializer(Pump.objects.select_related("patient").get(pk=pump.pk)).data)

    @extend_schema(request=PumpSerializer, responses=PumpSerializer)
    def put(self, request, pk):
        return self.patch(request, pk)

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        pump_services.pump_deactivate(pump=self.pump(), request=request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class _PumpChildListView(_PumpScoped, generics.ListCreateAPIView):
    related_name = ""  # names the history in the audit row; each subclass orders its own queryset

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        access.record_view(request, self.pump(), detail=self.related_name)
        return response

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        obj = self.perform_service(dict(serializer.validated_data))
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
        return pump_services.pump_program_set(pump=self.pump(), user=self.request.user, request=self.request, **data)


class PumpRefillListView(_PumpChildListView):
    """The pump's refills (newest first), or POST a refill."""

    serializer_class = RefillSerializer
    related_name = "refills"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return PumpRefill.objects.none()
        return self.pump().refills.order_by("-filled_at", "-id")

    def perform_service(self, data):
        return pump_services.pump_refill_record(pump=self.pump(), user=self.request.user, request=self.request, **data)


class PumpAppointmentListView(_PumpChildListView):
    """The pump's appointments (newest first), or POST the next one (replaces a scheduled one)."""

    serializer_class = AppointmentSerializer
    related_name = "appointments"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return RefillAppointment.objects.none()
        return self.pump().appointments.order_by("-scheduled_at", "-id")

    def perform_service(self, data):
        return pump_services.pump_appointment_set(
            pump=self.pump(), user=self.request.user, request=self.request, **data
        )


class PumpAppointmentDetailView(_PumpScoped, APIView):
    """Mark a scheduled appointment done or cancelled."""

    @extend_schema(request=AppointmentStatusSerializer, responses=AppointmentSerializer)
    def patch(self, request, pk, appointment_id):
        try:
            appointment = self.pump().appointments.get(pk=int(appointment_id))
        except (RefillAppointment.DoesNotExist, ValueError):
            raise NotFound("Appointment not found.") from None
        serializer = AppointmentStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appointment = pump_services.pump_appointment_status_set(
            appointment=appointment, status=serializer.validated_data["status"], request=request
        )
        return Response(AppointmentSerializer(appointment).data)


class PumpScheduleView(_PumpScoped, APIView):
    """The pump's refill schedule, computed now: dates, flow, the kit's ship-by date and the warnings."""

    @extend_schema(responses=ScheduleSerializer)
    def get(self, request, pk):
        pump = access.pump_for(request.user, pk, history=True)
        schedule = pump_schedule_compute(pump=pump)
        access.record_view(request, pump, detail="schedule")
        return Response(ScheduleSerializer(schedule_payload(pump, schedule)).data)
