"""Back office for refill kits: kit orders and standing orders (read and pause), alerts with a
resolve action, and the read-only escalation history. Registered by ``pumps.admin``.

Kit orders are made by ``pumps.services.kits`` only (the clinic's page or API, or a standing
order), so the admin never adds or edits them; actions call the services.

Kit orders, standing orders, alerts and escalations name a patient's pump and refill: PHI. As in the
pump back office, only pharmacy staff (``access.is_pharmacy_staff``) who also hold the model's
permission open them, whatever model permissions a plain staff account holds; kit and standing
orders are those of the pumps ``access.pumps_visible_to`` lets the user see, alerts (and their
escalations) are all the pharmacy staff's to handle. What a list or a page shows is recorded in the
PHI audit log (``access.record_views``/``access.record_view``, detail "admin list"/"admin").
"""

from django.contrib import admin, messages

from pumps import access
from pumps.models import KitAlert, KitAlertEscalation, KitOrder, StandingOrder
from pumps.services.kits.alerts import kit_alert_resolve
from pumps.services.kits.dispatch import kit_order_dispatch


class _PharmacyStaffAdmin(admin.ModelAdmin):
    """Pharmacy staff with the model's permission only; never added or deleted here; what is shown is audited."""

    def has_module_permission(self, request):
        return access.is_pharmacy_staff(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.is_pharmacy_staff(request.user) and super().has_view_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        # The change page is shown read-only to readers; saving needs the change permission.
        if not access.is_pharmacy_staff(request.user):
            return False
        if request.method in ("GET", "HEAD"):
            return super().has_view_permission(request, obj)
        return super().has_change_permission(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", None) and response.context_data.get("cl")
        if cl is not None:
            access.record_views(request, list(cl.result_list), detail="admin list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        shown = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and shown is not None and response.status_code == 200:
            access.record_view(request, shown, detail="admin")
        return response


class _VisiblePumpsAdmin(_PharmacyStaffAdmin):
    """Records of a pump: only those of the pumps the user may see."""

    def get_queryset(self, request):
        return super().get_queryset(request).filter(pump__in=access.pumps_visible_to(request.user).values("pk"))


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
class KitOrderAdmin(_VisiblePumpsAdmin):
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
class StandingOrderAdmin(_VisiblePumpsAdmin):
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
class KitAlertAdmin(_PharmacyStaffAdmin):
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
class KitAlertEscalationAdmin(_PharmacyStaffAdmin):
    list_display = ["alert", "level", "subject", "created_at"]
    readonly_fields = ["alert", "level", "subject", "recipients", "created_at"]

    def has_change_permission(self, request, obj=None):
        return request.method in ("GET", "HEAD") and super().has_change_permission(request, obj)
