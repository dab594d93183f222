"""Back office for refill kits: kit orders and standing orders (read and pause), alerts with a
resolve action, and the read-only escalation history. Registered by ``pumps.admin``.

Kit orders are made by ``pumps.services.kits`` only (the clinic's page or API, or a standing
order), so the admin never adds or edits them; actions call the services.
"""

from django.contrib import admin, messages

from pumps.models import KitAlert, KitAlertEscalation, KitOrder, StandingOrder
from pumps.services.kits.alerts import kit_alert_resolve
from pumps.services.kits.dispatch import kit_order_dispatch


class _NoAddDelete(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class KitAlertInline(_ReadOnlyInline):
    model = KitAlert
    fields = ["reason", "level", "opened_at", "last_escalated_at", "resolved_at", "resolved_by", "resolution"]
    readonly_fields = fields
    show_change_link = True


@admin.register(KitOrder)
class KitOrderAdmin(_NoAddDelete):
    list_display = [
        "pk",
        "clinic",
        "pump",
        "status",
        "ship_by",
        "expected_delivery",
        "required_delivery",
        "order",
        "source",
        "dispatched_at",
    ]
    list_filter = ["status", "source", "clinic"]
    date_hierarchy = "ship_by"
    list_select_related = ["clinic", "pump", "order"]
    readonly_fields = [f.name for f in KitOrder._meta.fields]
    inlines = [KitAlertInline]
    actions = ["dispatch_now"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") or super().has_change_permission(request, obj)

    @admin.action(description="Dispatch now (fulfil if covered and ready, otherwise alert why not)")
    def dispatch_now(self, request, queryset):
        for kit in queryset.filter(status__in=KitOrder.PENDING):
            kit = kit_order_dispatch(kit_order_id=kit.pk)
            self.message_user(
                request,
                f"Kit order {kit.pk}: {kit.get_status_display()}." + (f" {kit.last_error}" if kit.last_error else ""),
                messages.SUCCESS if kit.status == KitOrder.Status.DISPATCHED else messages.WARNING,
            )


@admin.register(StandingOrder)
class StandingOrderAdmin(_NoAddDelete):
    list_display = ["pump", "clinic", "active", "product", "created_by", "updated_at"]
    list_filter = ["active", "clinic"]
    list_select_related = ["pump", "clinic", "product", "created_by"]
    fields = [
        "clinic",
        "pump",
        "product",
        "active",
        "created_by",
        "shipping_name",
        "shipping_line1",
        "shipping_line2",
        "shipping_city",
        "shipping_state",
        "shipping_postal_code",
        "shipping_country",
        "shipping_phone",
    ]
    readonly_fields = ["clinic", "pump", "product", "created_by"]


class EscalationInline(_ReadOnlyInline):
    model = KitAlertEscalation
    fields = ["level", "subject", "recipients", "created_at"]
    readonly_fields = fields


@admin.register(KitAlert)
class KitAlertAdmin(_NoAddDelete):
    list_display = [
        "pk",
        "reason",
        "level",
        "clinic",
        "pump",
        "kit_order",
        "opened_at",
        "last_escalated_at",
        "resolved_at",
        "resolved_by",
    ]
    list_filter = [("resolved_at", admin.EmptyFieldListFilter), "reason", "level", "clinic"]
    list_select_related = ["clinic", "pump", "kit_order", "resolved_by"]
    readonly_fields = [f.name for f in KitAlert._meta.fields]
    inlines = [EscalationInline]
    actions = ["resolve"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") or super().has_change_permission(request, obj)

    @admin.action(description="Resolve the selected alerts (stops escalation)")
    def resolve(self, request, queryset):
        count = 0
        for alert in queryset.filter(resolved_at__isnull=True):
            kit_alert_resolve(
                alert_id=alert.pk,
                user=request.user,
                resolution=f"Resolved in the back office by {request.user.get_username()}.",
            )
            count += 1
        self.message_user(request, f"{count} alert(s) resolved.", messages.SUCCESS)


@admin.register(KitAlertEscalation)
class KitAlertEscalationAdmin(_NoAddDelete):
    list_display = ["alert", "level", "subject", "created_at"]
    readonly_fields = ["alert", "level", "subject", "recipients", "created_at"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD")
