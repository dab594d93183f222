"""Prescriptions, patients and FHIR endpoints. Thin: parse, ask ``rx.access``, call a service,
render. The services audit what they change; the views audit what they show (``audit.audit_view``)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, permissions, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api.parsers import JSONParser

from .. import access
from ..selectors import patient_list, prescription_list
from ..services import audit, fhir, patients, prescriptions, responses, uploads
from .serializers import (
    FhirImportResultSerializer,
    PatientSerializer,
    PrescriptionCreateSerializer,
    PrescriptionResponseCreateSerializer,
    PrescriptionResponseSerializer,
    PrescriptionSerializer,
)


class FhirJSONParser(JSONParser):
    media_type = "application/fhir+json"


class FhirJSONRenderer(JSONRenderer):
    media_type = "application/fhir+json"
    format = "fhir"


class PHIView:
    """PHI endpoints require a login; an anonymous request gets 401 (the same for every id)."""

    permission_classes = [permissions.IsAuthenticated]

    def get_authenticate_header(self, request):
        return 'Token realm="api"'


class PrescriptionListCreateView(PHIView, generics.ListCreateAPIView):
    """List the prescriptions you may see; upload one or request a transfer."""

    serializer_class = PrescriptionSerializer
    parser_classes = [MultiPartParser, FormParser, JSONParser]

    def get_queryset(self):
        return prescription_list(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        audit.audit_view_many(request, page, detail="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        request={"multipart/form-data": PrescriptionCreateSerializer, "application/json": PrescriptionCreateSerializer},
        responses={201: PrescriptionSerializer},
    )
    def post(self, request, *args, **kwargs):
        data = PrescriptionCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        v = data.validated_data
        if v.get("file") is not None:
            rx = uploads.prescription_upload(
                user=request.user, patient_id=v["patient"], file=v["file"], notes=v["notes"], request=request
            )
        else:
            rx = prescriptions.prescription_transfer_request(
                user=request.user,
                patient_id=v["patient"],
                product_id=v.get("product"),
                transfer_pharmacy=v["transfer_pharmacy"],
                notes=v["notes"],
                request=request,
                prescriber={
                    "name": v["prescriber_name"],
                    "practice": v["prescriber_practice"],
                    "npi": v["prescriber_npi"],
                    "dea_number": v["prescriber_dea_number"],
                    "phone": v["prescriber_phone"],
                    "fax": v["prescriber_fax"],
                },
            )
        rx = prescription_list(request.user).get(pk=rx.pk)
        return Response(PrescriptionSerializer(rx, context={"request": request}).data, status=status.HTTP_201_CREATED)


class PrescriptionDetailView(PHIView, APIView):
    @extend_schema(responses={200: PrescriptionSerializer})
    def get(self, request, pk):
        rx = access.prescription_for(request.user, pk)
        rx = prescription_list(request.user).get(pk=rx.pk)
        audit.audit_view(request, rx)
        return Response(PrescriptionSerializer(rx, context={"request": request}).data)


class PrescriptionResponseView(PHIView, APIView):
    """Answer a pharmacist's request for information (the patient's owner only): a message and
    optionally a new document; the prescription goes back to the queue (received)."""

    parser_classes = [MultiPartParser, FormParser, JSONParser]

    @extend_schema(
        request={
            "multipart/form-data": PrescriptionResponseCreateSerializer,
            "application/json": PrescriptionResponseCreateSerializer,
        },
        responses={201: PrescriptionResponseSerializer},
    )
    def post(self, request, pk):
        access.owned_prescription_for(request.user, pk)  # 404 before any validation
        data = PrescriptionResponseCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        response = responses.prescription_respond(
            user=request.user,
            prescription_id=pk,
            request=request,
            message=data.validated_data["message"],
            file=data.validated_data.get("file"),
        )
        return Response(PrescriptionResponseSerializer(response).data, status=status.HTTP_201_CREATED)


class PatientListCreateView(PHIView, generics.ListCreateAPIView):
    """Your patients (a shopper's own; clinic staff: the clinic's). Create one: on your account,
    or for your clinic with ``clinic``."""

    serializer_class = PatientSerializer

    def get_queryset(self):
        return patient_list(self.request.user)

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        audit.audit_view_many(request, page, detail="list")
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        clinic_id = fields.pop("clinic_id", None)
        products = fields.pop("current_products", None)
        patient = patients.patient_create(
            user=request.user, clinic_id=clinic_id, current_products=products, request=request, **fields
        )
        return Response(PatientSerializer(patient).data, status=status.HTTP_201_CREATED)


class PatientDetailView(PHIView, APIView):
    @extend_schema(responses={200: PatientSerializer})
    def get(self, request, pk):
        patient = access.patient_for(request.user, pk)
        audit.audit_view(request, patient)
        return Response(PatientSerializer(patient).data)

    @extend_schema(request=PatientSerializer, responses={200: PatientSerializer})
    def patch(self, request, pk):
        access.patient_for(request.user, pk)  # 404 unless visible
        if not access.patients_owned_by(request.user).filter(pk=pk).exists():
            raise patients.NotPatientOwner("Only the patient's account or clinic can change these details.")
        serializer = PatientSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        fields = dict(serializer.validated_data)
        if "clinic_id" in fields:
            fields.pop("clinic_id")
        products = fields.pop("current_products", None)
        patient = patients.patient_update(
            user=request.user, patient_id=pk, current_products=products, request=request, **fields
        )
        return Response(PatientSerializer(patient).data)


class MedicationRequestImportView(PHIView, APIView):
    """Accept a FHIR R4 MedicationRequest from a clinic (or pharmacy staff)."""

    parser_classes = [FhirJSONParser, JSONParser]
    renderer_classes = [JSONRenderer, FhirJSONRenderer]

    @extend_schema(
        request={"application/fhir+json": dict, "application/json": dict},
        responses={201: FhirImportResultSerializer, 400: OpenApiResponse(description="names the element")},
    )
    def post(self, request):
        rx = fhir.medication_request_import(payload=request.data, user=request.user, request=request)
        body = {
            "id": rx.pk,
            "status": rx.status,
            "findings": [
                {"code": f.code, "severity": f.severity, "message": f.message, "overridden": f.overridden}
                for f in rx.findings.order_by("id")
            ],
        }
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v1/prescriptions/{rx.pk}/")
        return response


class MedicationDispenseView(PHIView, APIView):
    """A dispense as a FHIR R4 MedicationDispense."""

    renderer_classes = [FhirJSONRenderer, JSONRenderer]

    @extend_schema(responses={200: dict})
    def get(self, request, pk):
        dispense = access.dispense_for(request.user, pk)
        audit.audit_view(request, dispense.prescription, detail=f"MedicationDispense {dispense.pk}")
        return Response(fhir.medication_dispense_resource(dispense=dispense))
