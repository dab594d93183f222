"""Serializers of the prescriptions API: what a shopper, clinic or pharmacist sees, and what
they may send. Writes go through ``rx.services``."""

from django.urls import reverse
from rest_framework import serializers

from catalog.models import Product
from catalog.ndc import format_ndc

from ..models import Decision, Patient, Prescription, date_of_birth_is_possible


class FindingSerializer(serializers.Serializer):
    code = serializers.CharField()
    severity = serializers.CharField()
    message = serializers.CharField()
    overridden = serializers.BooleanField(default=False)


class PrescriberSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    practice = serializers.CharField()
    npi = serializers.CharField()


class ProductSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    ndc = serializers.SerializerMethodField()

    def get_ndc(self, obj) -> str:
        return format_ndc(obj.ndc)


class DirectionsSerializer(serializers.Serializer):
    dose_amount = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    dose_unit = serializers.CharField()
    route = serializers.CharField()
    times_per_day = serializers.DecimalField(max_digits=6, decimal_places=3, allow_null=True)
    as_needed = serializers.BooleanField()
    sig = serializers.CharField()


class PrescriptionSerializer(serializers.ModelSerializer):
    """A prescription with its status, findings and the pharmacist's message to the shopper."""

    status_display = serializers.CharField(source="get_status_display", read_only=True)
    priority = serializers.SerializerMethodField()
    patient_name = serializers.CharField(source="patient.__str__", read_only=True)
    drug = serializers.StringRelatedField()
    product = ProductSummarySerializer(allow_null=True)
    prescriber = PrescriberSummarySerializer(allow_null=True)
    directions = serializers.SerializerMethodField()
    findings = FindingSerializer(many=True)
    message = serializers.SerializerMethodField(help_text="Reason for a rejection or the pharmacist's question.")
    file_url = serializers.SerializerMethodField()

    class Meta:
        model = Prescription
        fields = [
            "id",
            "patient",
            "patient_name",
            "status",
            "status_display",
            "source",
            "priority",
            "drug",
            "product",
            "prescriber",
            "written_date",
            "directions",
            "quantity",
            "refills_authorized",
            "fills_remaining",
            "quantity_remaining",
            "days_supply",
            "expires_on",
            "substitution_allowed",
            "findings",
            "message",
            "file_url",
            "notes",
            "created_at",
        ]
        read_only_fields = fields

    def get_priority(self, obj) -> str:
        return "urgent" if obj.is_urgent else "routine"

    def get_directions(self, obj) -> dict:
        return DirectionsSerializer(obj).data

    def get_message(self, obj) -> str:
        decisions = [d for d in obj.decisions.all() if d.action != Decision.Action.APPROVE]
        if obj.status in (Prescription.Status.REJECTED, Prescription.Status.NEEDS_INFORMATION) and decisions:
            return decisions[-1].message
        return ""

    def get_file_url(self, obj) -> str | None:
        if not obj.file:
            return None
        url = reverse("rx:prescription-file", kwargs={"pk": obj.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class PrescriptionResponseCreateSerializer(serializers.Serializer):
    """The answer to a request for information; ``file`` is checked by content like an upload."""

    message = serializers.CharField(max_length=5000)
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)


class PrescriptionResponseSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    prescription = serializers.IntegerField(source="prescription_id")
    status = serializers.CharField(source="prescription.status")
    message = serializers.CharField()
    file_attached = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_file_attached(self, obj) -> bool:
        return bool(obj.file)


class PrescriptionCreateSerializer(serializers.Serializer):
    """An upload (``file``) or a transfer request (``prescriber_name`` ...), for one of your patients."""

    patient = serializers.IntegerField()
    file = serializers.FileField(required=False, allow_empty_file=True, use_url=False)
    notes = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")
    product = serializers.IntegerField(required=False, allow_null=True)
    prescriber_name = serializers.CharField(required=False, allow_blank=True, max_length=200)
    prescriber_practice = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")
    prescriber_npi = serializers.CharField(required=False, allow_blank=True, max_length=10, default="")
    prescriber_dea_number = serializers.CharField(required=False, allow_blank=True, max_length=9, default="")
    prescriber_phone = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    prescriber_fax = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")
    transfer_pharmacy = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")

    def validate(self, attrs):
        has_file = attrs.get("file") is not None
        has_prescriber = bool((attrs.get("prescriber_name") or "").strip())
        if has_file and has_prescriber:
            raise serializers.ValidationError(
                {"file": ["Send either a file (upload) or the prescriber's details (transfer), not both."]}
            )
        if not has_file and not has_prescriber:
            raise serializers.ValidationError(
                {"file": ["Attach the prescription (JPEG, PNG or PDF), or give prescriber_name for a transfer."]}
            )
        return attrs


class PatientSerializer(serializers.ModelSerializer):
    clinic = serializers.IntegerField(source="clinic_id", required=False, allow_null=True)
    owner = serializers.SerializerMethodField()
    current_products = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Product.objects.all())

    class Meta:
        model = Patient
        fields = [
            "id",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "pregnancy_status",
            "is_lactating",
            "allergies",
            "renal_impairment",
            "current_medications_text",
            "current_products",
            "clinic",
            "owner",
            "created_at",
        ]
        read_only_fields = ["id", "owner", "created_at"]

    def get_owner(self, obj) -> str:
        return "clinic" if obj.clinic_id else "account"

    def validate_date_of_birth(self, value):
        if not date_of_birth_is_possible(value):
            raise serializers.ValidationError("Cannot be in the future.")
        return value


class FhirImportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    findings = FindingSerializer(many=True)
