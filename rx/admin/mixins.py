"""What the rx admin pages share: the audit of a changelist's rows, error texts for messages,
read-only inlines and the prescription access rules (from ``rx.access``)."""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError

from .. import access
from ..services import audit


def audit_changelist(request, response, detail="admin list"):
    """Write a "view" row for every row the changelist ``response`` shows (none for a redirect)."""
    cl = getattr(response, "context_data", {}).get("cl") if hasattr(response, "context_data") else None
    if cl is not None:
        audit.audit_view_many(request, list(cl.result_list), detail=detail)


def error_text(exc) -> str:
    """The text of a DomainError or ValidationError for an admin message, naming the fields."""
    if isinstance(exc, DomainError):
        return exc.message
    if hasattr(exc, "error_dict"):
        return "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
    return " ".join(exc.messages)


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


# What ``str(prescription)`` reads, for changelists that show a prescription column.
PRESCRIPTION_STR = ("prescription__patient", "prescription__product", "prescription__drug")


class PrescriptionAccessMixin:
    """Queryset and permissions from rx.access; audit of lists and views."""

    def get_queryset(self, request):
        return access.prescriptions_visible_to(request.user).select_related("patient", "drug", "product", "prescriber")

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
        audit_changelist(request, response)
        return response
