"""Admin for clinics, patients, prescribers, prescriptions and the verification queue.

Who sees what is decided by ``rx.access`` (the same rules as the API). Every change list, view
and change of a patient or prescription is written to the audit log. Decisions go through
``rx.services.verification`` from the review page (the queue's change view); decisions,
dispenses and the audit log are read-only, and only superusers can read the audit log.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError

from .. import access
from ..models import (
    AuditLog,
    Clinic,
    ClinicMembership,
    Decision,
    Dispense,
    Finding,
    Patient,
    Prescriber,
    Prescription,
    PrescriptionEvent,
    VerificationQueueItem,
)
from ..services import audit, verification
from ..services.prescriptions import prescription_start_review, prescription_update

Status = Prescription.Status


def _audit_changelist(request, response, detail="admin list"):
    cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
    if cl is not None:
        audit.audit_record_many(user=request.user, action=audit.Action.VIEW, objects=list(cl.result_list),
                                request=request, detail=detail)


def _error_text(exc) -> str:
    if isinstance(exc, DomainError):
        return exc.message
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class MembershipInline(admin.TabularInline):
    model = ClinicMembership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Clinic)
class ClinicAdmin(admin.ModelAdmin):
    list_display = ["name", "email", "phone", "time_zone", "refill_buffer_days"]
    search_fields = ["name"]
    inlines = [MembershipInline]

    # A membership opens every patient of the clinic: only superusers manage clinics here.
    def has_module_permission(self, request):
        return access.is_rx_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_rx_admin(request.user)

    def has_add_permission(self, request):
        return access.is_rx_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return access.is_rx_admin(request.user)

    def has_delete_permission(self, request, obj=None):
        return access.is_rx_admin(request.user)


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["__str__", "date_of_birth", "owner", "pregnancy_status", "is_lactating"]
    search_fields = ["last_name", "first_name"]
    list_filter = ["pregnancy_status", "is_lactating", "renal_impairment"]
    autocomplete_fields = ["account", "clinic"]
    filter_horizontal = ["current_products"]
    actions = None

    @admin.display(description="belongs to")
    def owner(self, obj):
        return obj.clinic or obj.account

    def get_queryset(self, request):
        return access.patients_visible_to(request.user).select_related("account", "clinic")

    # Patients are PHI: in the admin only pharmacists and superusers, whatever model
    # permissions a plain staff account has been given.
    def has_module_permission(self, request):
        return access.can_review(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.can_review(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return access.can_review(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return access.can_review(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        _audit_changelist(request, response)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.audit_record(user=request.user, action=audit.Action.VIEW, object_type="rx.patient",
                               object_id=object_id, request=request, detail="admin")
        return response

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit.audit_record(user=request.user, action=audit.Action.CHANGE if change else audit.Action.CREATE,
                           obj=obj, request=request, detail="admin: " + ", ".join(form.changed_data))


@admin.register(Prescriber)
class PrescriberAdmin(admin.ModelAdmin):
    list_display = ["name", "practice", "npi", "dea_number", "npi_ok"]
    search_fields = ["name", "npi", "practice"]

    @admin.display(boolean=True, description="NPI check digit")
    def npi_ok(self, obj):
        return obj.npi_valid

    def has_delete_permission(self, request, obj=None):
        return False


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
        return format_html('<a href="{}" target="_blank"><img src="{}" alt="Prescription {}" '
                           'style="max-width:480px;max-height:480px;border:1px solid #ccc"></a>', url, url, obj.pk)
    return format_html('<a href="{}" target="_blank">Open the PDF</a>', url)


# What ``str(prescription)`` reads, for changelists that show a prescription column.
_PRESCRIPTION_STR = ("prescription__patient", "prescription__product", "prescription__drug")


class PrescriptionAccessMixin:
    """Queryset and permissions from rx.access; audit of lists and views."""

    def get_queryset(self, request):
        return access.prescriptions_visible_to(request.user).select_related(
            "patient", "drug", "product", "prescriber")

    def has_module_permission(self, request):
        return access.can_review(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.can_review(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        _audit_changelist(request, response)
        return response


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
    readonly_fields = ["preview", "patient", "status", "source", "fills_remaining", "quantity_remaining",
                       "expires_on", "file_content_type", "created_by", "created_at", "notes", "review_link"]
    fieldsets = [
        (None, {"fields": ["review_link", "preview", "patient", "status", "source", "notes", "created_by",
                           "created_at"]}),
        ("Prescriber and medication", {"fields": ["prescriber", "written_date", "drug", "product", "strength",
                                                  "strength_unit", "substitution_allowed"]}),
        ("Directions", {"fields": ["dose_amount", "dose_unit", "route", "times_per_day", "as_needed", "sig"]}),
        ("Quantities", {"fields": ["quantity", "refills_authorized", "days_supply", "valid_until", "expires_on",
                                   "fills_remaining", "quantity_remaining"]}),
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
            audit.audit_record(user=request.user, action=audit.Action.VIEW, object_type="rx.prescription",
                               object_id=object_id, request=request, detail="admin")
        return response

    def save_model(self, request, obj, form, change):
        changes = {name: form.cleaned_data[name] for name in form.changed_data}
        try:
            prescription_update(prescription=obj, user=request.user, changes=changes, request=request)
        except DomainError as exc:
            raise PermissionDenied(exc.message) from exc


class QueueStatusFilter(admin.SimpleListFilter):
    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [(s.value, s.label) for s in Prescription.QUEUE_STATUSES]

    def queryset(self, request, queryset):
        return queryset.filter(status=self.value()) if self.value() else queryset


@admin.register(VerificationQueueItem)
class VerificationQueueAdmin(PrescriptionAccessMixin, admin.ModelAdmin):
    """Prescriptions waiting on a pharmacist: urgent (pump refills, intrathecal) first, then
    oldest first. The change view is the review page, where pharmacists decide."""

    list_display = ["id", "urgency", "received", "patient", "medication", "status", "source", "high_findings"]
    list_display_links = ["id", "patient"]
    list_filter = [QueueStatusFilter, "priority"]
    search_fields = ["patient__last_name", "patient__first_name", "=id"]
    ordering = ["-priority", "created_at", "id"]
    actions = None
    list_per_page = 50

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status__in=Prescription.QUEUE_STATUSES).order_by(
            "-priority", "created_at", "id")

    @admin.display(description="urgency", ordering="-priority")
    def urgency(self, obj):
        if obj.is_urgent:
            return format_html('<strong style="color:#ba2121">URGENT</strong> {}', obj.priority_reason)
        return "routine"

    @admin.display(description="received", ordering="created_at")
    def received(self, obj):
        return obj.created_at

    @admin.display(description="medication")
    def medication(self, obj):
        return obj.product or obj.drug or "(to transcribe)"

    @admin.display(description="high findings")
    def high_findings(self, obj):
        return obj.findings.filter(severity=Finding.Severity.HIGH).count()

    def has_change_permission(self, request, obj=None):
        return access.can_review(request.user)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """The review page: GET shows everything a pharmacist needs; POST decides."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        try:
            rx = access.prescription_for(request.user, object_id)
        except DomainError:
            raise Http404("Not found.") from None
        if request.method == "POST":
            return self._decide(request, rx)
        if rx.status in Prescription.QUEUE_STATUSES:
            prescription_start_review(prescription=rx, user=request.user, request=request)
        audit.audit_record(user=request.user, action=audit.Action.VIEW, obj=rx, request=request, detail="review")
        audit.audit_record(user=request.user, action=audit.Action.VIEW, obj=rx.patient, request=request,
                           detail=f"review of prescription {rx.pk}")
        return self._render_review(request, rx)

    def _render_review(self, request, rx, *, status=200, posted=None):
        findings = sorted(rx.findings.select_related("overridden_by"),
                          key=lambda f: (Finding.SEVERITY_RANK.get(f.severity, 9), f.pk))
        panels = verification.prescription_review_panels(prescription=rx, user=request.user)
        conflicts = verification.prescription_verification_conflicts(prescription=rx, user=request.user)
        file_url = reverse("rx:prescription-file", kwargs={"pk": rx.pk}) if rx.file else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review prescription {rx.pk}",
            "rx": rx,
            "patient": rx.patient,
            "age": rx.patient.age_on(timezone.localdate()),
            "findings": findings,
            "file_url": file_url,
            "is_image": (rx.file_content_type or "").startswith("image/"),
            "history": access.review_history_for(request.user, rx),
            "decisions": rx.decisions.select_related("pharmacist").order_by("created_at"),
            "responses": rx.responses.select_related("author").order_by("created_at"),
            "events": rx.events.select_related("actor").order_by("created_at"),
            "panels": panels,
            "can_decide": access.can_decide(request.user) and not conflicts and rx.status in
            Prescription.QUEUE_STATUSES,
            "is_pharmacist": access.can_decide(request.user),
            "conflicts": conflicts,
            "edit_url": reverse("admin:rx_prescription_change", args=[rx.pk]),
            "posted": posted or {},
            "current_products": list(rx.patient.current_products.all()),
        }
        return TemplateResponse(request, "admin/rx/verificationqueueitem/review.html", context, status=status)

    def _decide(self, request, rx):
        action = request.POST.get("action")
        try:
            if action == "approve":
                overrides = {key.removeprefix("override_"): value for key, value in request.POST.items()
                             if key.startswith("override_") and value.strip()}
                verification.prescription_approve(prescription_id=rx.pk, pharmacist=request.user,
                                                  overrides=overrides, message=request.POST.get("message", ""),
                                                  request=request)
                messages.success(request, f"Prescription {rx.pk} approved.")
            elif action == "reject":
                verification.prescription_reject(prescription_id=rx.pk, pharmacist=request.user,
                                                 reason=request.POST.get("reason", ""), request=request)
                messages.success(request, f"Prescription {rx.pk} rejected; the shopper will be told why.")
            elif action == "request_info":
                verification.prescription_request_information(prescription_id=rx.pk, pharmacist=request.user,
                                                              message=request.POST.get("info_message", ""),
                                                              request=request)
                messages.success(request, f"Information requested for prescription {rx.pk}.")
            else:
                messages.error(request, "Choose approve, reject or request information.")
                return self._render_review(request, rx, status=400)
        except (DomainError, ValidationError) as exc:
            messages.error(request, _error_text(exc))
            rx.refresh_from_db()
            status = 403 if getattr(exc, "status_code", 400) == 403 else 400
            return self._render_review(request, rx, status=status, posted=request.POST)
        return HttpResponseRedirect(reverse("admin:rx_verificationqueueitem_changelist"))


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Decisions are kept as made: readable, never added, changed or deleted here."""

    list_display = ["created_at", "prescription", "pharmacist", "action", "message"]
    list_filter = ["action"]
    readonly_fields = ["prescription", "pharmacist", "action", "message", "overrides", "created_at"]
    actions = None

    def get_queryset(self, request):
        return super().get_queryset(request).filter(
            prescription__in=access.prescriptions_visible_to(request.user).values("pk")).select_related(
            *_PRESCRIPTION_STR, "pharmacist")


@admin.register(Dispense)
class DispenseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "prescription", "quantity", "days_supply", "reference", "prepared_at", "handed_over_at"]
    search_fields = ["reference"]
    readonly_fields = ["prescription", "product", "quantity", "days_supply", "reference", "prepared_at",
                       "handed_over_at", "dispensed_by", "created_at"]
    actions = None

    def get_queryset(self, request):
        return access.dispenses_visible_to(request.user).select_related(*_PRESCRIPTION_STR)


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    """Readable by superusers only; nobody adds, changes or deletes audit rows."""

    list_display = ["at", "username", "action", "object_type", "object_id", "ip_address", "path"]
    list_filter = ["action", "object_type"]
    search_fields = ["username", "object_id", "ip_address", "path"]
    date_hierarchy = "at"
    readonly_fields = ["user", "username", "action", "object_type", "object_id", "at", "ip_address", "path", "detail"]
    actions = None

    def has_module_permission(self, request):
        return access.is_rx_admin(request.user)

    def has_view_permission(self, request, obj=None):
        return access.is_rx_admin(request.user)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
