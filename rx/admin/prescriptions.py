"""Admin for prescriptions: every prescription (history, search) and the transcription form.

Who sees what is decided by ``rx.access`` (the same rules as the API). Every change list, view
and change of a prescription is written to the audit log; changes go through
``rx.services.prescriptions.prescription_update``.
"""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError

from .. import access
from ..models import Decision, Dispense, Finding, Prescription, PrescriptionEvent
from ..services import audit
from ..services.prescriptions import prescription_update
from .mixins import PrescriptionAccessMixin, ReadOnlyInline


class FindingInline(ReadOnlyInline):
    model = Finding
    fields = ["code", "severity", "message", "overridden", "override_reason", "overridden_by", "overridden_at"]
    readonly_fields = fields


class DecisionInline(ReadOnlyInline):
    model = Decision
    fields = ["created_at", "pharmacist", "action", "message", "overrides"]
    readonly_fields = fields


class DispenseInline(ReadOnlyInline):
    model = Dispense
    fields = ["reference", "quantity", "days_supply", "prepared_at", "handed_over_at", "dispensed_by"]
    readonly_fields = fields


class EventInline(ReadOnlyInline):
    model = PrescriptionEvent
    fields = ["created_at", "from_status", "to_status", "actor", "note"]
    readonly_fields = fields


def file_preview(obj):
    if not obj or not obj.file:
        return "—"
    url = reverse("rx:prescription-file", kwargs={"pk": obj.pk})
    if (obj.file_content_type or "").startswith("image/"):
        return format_html(
            '<a href="{}" target="_blank"><img src="{}" alt="Prescription {}" '
            'style="max-width:480px;max-height:480px;border:1px solid #ccc"></a>',
            url,
            url,
            obj.pk,
        )
    return format_html('<a href="{}" target="_blank">Open the PDF</a>', url)


@admin.register(Prescription)
class PrescriptionAdmin(PrescriptionAccessMixin, admin.ModelAdmin):
    """Every prescription (history, search) and the transcription form for uploads."""

    list_display = ["id", "patient", "drug", "product", "status", "priority", "source", "expires_on", "created_at"]
    list_filter = ["status", "priority", "source"]
    search_fields = ["patient__last_name", "patient__first_name", "prescriber__name", "prescriber__npi", "=id"]
    date_hierarchy = "created_at"
    actions = None
    autocomplete_fields = ["prescriber"]
    raw_id_fields = ["product", "drug"]
    readonly_fields = [
        "preview",
        "patient",
        "status",
        "source",
        "fills_remaining",
        "quantity_remaining",
        "expires_on",
        "file_content_type",
        "created_by",
        "created_at",
        "notes",
        "review_link",
    ]
    fieldsets = [
        (
            None,
            {"fields": ["review_link", "preview", "patient", "status", "source", "notes", "created_by", "created_at"]},
        ),
        (
            "Prescriber and medication",
            {
                "fields": [
                    "prescriber",
                    "written_date",
                    "drug",
                    "product",
                    "strength",
                    "strength_unit",
                    "substitution_allowed",
                ]
            },
        ),
        ("Directions", {"fields": ["dose_amount", "dose_unit", "route", "times_per_day", "as_needed", "sig"]}),
        (
            "Quantities",
            {
                "fields": [
                    "quantity",
                    "refills_authorized",
                    "days_supply",
                    "valid_until",
                    "expires_on",
                    "fills_remaining",
                    "quantity_remaining",
                ]
            },
        ),
        ("Queue", {"fields": ["priority", "priority_reason", "external_id", "transfer_pharmacy"]}),
    ]
    inlines = [FindingInline, DecisionInline, DispenseInline, EventInline]

    @admin.display(description="uploaded prescription")
    def preview(self, obj):
        return file_preview(obj)

    @admin.display(description="review")
    def review_link(self, obj):
        if obj and obj.status in Prescription.QUEUE_STATUSES:
            url = reverse("admin:rx_verificationqueueitem_change", args=[obj.pk])
            return format_html('<a class="button" href="{}">Open the review page</a>', url)
        return "—"

    def has_change_permission(self, request, obj=None):
        if not (access.can_review(request.user) and super().has_change_permission(request, obj)):
            return False
        return obj is None or obj.status in Prescription.QUEUE_STATUSES

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.audit_view(request, object_type="rx.prescription", object_id=object_id, detail="admin")
        return response

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            prescription_update(prescription=obj, user=request.user, changes=changes, request=request)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc
