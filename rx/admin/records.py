"""Admin for the records kept as written: decisions, dispenses (read-only) and the audit log
(superusers only; nobody adds, changes or deletes a row)."""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin

from .. import access
from ..models import AuditLog, Decision, Dispense
from .mixins import PRESCRIPTION_STR


@admin.register(Decision)
class DecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Decisions are kept as made: readable, never added, changed or deleted here."""

    list_display = ["created_at", "prescription", "pharmacist", "action", "message"]
    list_filter = ["action"]
    readonly_fields = ["prescription", "pharmacist", "action", "message", "overrides", "created_at"]
    actions = None

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .filter(prescription__in=access.prescriptions_visible_to(request.user).values("pk"))
            .select_related(*PRESCRIPTION_STR, "pharmacist")
        )


@admin.register(Dispense)
class DispenseAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["id", "prescription", "quantity", "days_supply", "reference", "prepared_at", "handed_over_at"]
    search_fields = ["reference"]
    readonly_fields = [
        "prescription",
        "product",
        "quantity",
        "days_supply",
        "reference",
        "prepared_at",
        "handed_over_at",
        "dispensed_by",
        "created_at",
    ]
    actions = None

    def get_queryset(self, request):
        return access.dispenses_visible_to(request.user).select_related(*PRESCRIPTION_STR)


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
