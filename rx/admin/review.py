"""The verification queue and its review page, where pharmacists decide.

The queue lists prescriptions waiting on a pharmacist, urgent first; its change view is the
review page. Opening it takes the prescription into review (audited); decisions go through
``rx.services.verification``.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from core.errors import DomainError
from core.shipping import pharmacy_today

from .. import access
from ..models import Finding, Prescription, VerificationQueueItem
from ..services import verification
from ..services.prescriptions import prescription_review_open
from .mixins import PrescriptionAccessMixin, error_text


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
        return (
            super()
            .get_queryset(request)
            .filter(status__in=Prescription.QUEUE_STATUSES)
            .order_by("-priority", "created_at", "id")
        )

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
        prescription_review_open(prescription=rx, user=request.user, request=request)
        return self._render_review(request, rx)

    def _render_review(self, request, rx, *, status=200, posted=None):
        findings = sorted(
            rx.findings.select_related("overridden_by"), key=lambda f: (Finding.SEVERITY_RANK.get(f.severity, 9), f.pk)
        )
        panels = verification.prescription_review_panels(prescription=rx, user=request.user)
        conflicts = verification.prescription_verification_conflicts(prescription=rx, user=request.user)
        file_url = reverse("rx:prescription-file", kwargs={"pk": rx.pk}) if rx.file else None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Review prescription {rx.pk}",
            "rx": rx,
            "patient": rx.patient,
            "age": rx.patient.age_on(pharmacy_today()),
            "findings": findings,
            "file_url": file_url,
            "is_image": (rx.file_content_type or "").startswith("image/"),
            "history": access.review_history_for(request.user, rx),
            "decisions": rx.decisions.select_related("pharmacist").order_by("created_at"),
            "responses": rx.responses.select_related("author").order_by("created_at"),
            "events": rx.events.select_related("actor").order_by("created_at"),
            "panels": panels,
            "can_decide": access.can_decide(request.user)
            and not conflicts
            and rx.status in Prescription.QUEUE_STATUSES,
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
                overrides = {
                    key.removeprefix("override_"): value
                    for key, value in request.POST.items()
                    if key.startswith("override_") and value.strip()
                }
                verification.prescription_approve(
                    prescription_id=rx.pk,
                    pharmacist=request.user,
                    overrides=overrides,
                    message=request.POST.get("message", ""),
                    request=request,
                )
                messages.success(request, f"Prescription {rx.pk} approved.")
            elif action == "reject":
                verification.prescription_reject(
                    prescription_id=rx.pk,
                    pharmacist=request.user,
                    reason=request.POST.get("reason", ""),
                    request=request,
                )
                messages.success(request, f"Prescription {rx.pk} rejected; the shopper will be told why.")
            elif action == "request_info":
                verification.prescription_request_information(
                    prescription_id=rx.pk,
                    pharmacist=request.user,
                    message=request.POST.get("info_message", ""),
                    request=request,
                )
                messages.success(request, f"Information requested for prescription {rx.pk}.")
            else:
                messages.error(request, "Choose approve, reject or request information.")
                return self._render_review(request, rx, status=400)
        except (DomainError, ValidationError) as exc:
            messages.error(request, error_text(exc))
            rx.refresh_from_db()
            status = 403 if getattr(exc, "status_code", 400) == 403 else 400
            return self._render_review(request, rx, status=status, posted=request.POST)
        return HttpResponseRedirect(reverse("admin:rx_verificationqueueitem_changelist"))
