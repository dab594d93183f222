"""Admin for clinics (superusers only), patients (pharmacists and superusers) and prescribers."""

from django.contrib import admin

from .. import access
from ..models import Clinic, ClinicMembership, Patient, Prescriber
from ..services import audit
from ..services.patients import patient_save
from .mixins import audit_changelist


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
        audit_changelist(request, response)
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.audit_view(request, object_type="rx.patient", object_id=object_id, detail="admin")
        return response

    def save_model(self, request, obj, form, change):
        patient_save(user=request.user, patient=obj, changed_fields=form.changed_data, request=request)


@admin.register(Prescriber)
class PrescriberAdmin(admin.ModelAdmin):
    list_display = ["name", "practice", "npi", "dea_number", "npi_ok"]
    search_fields = ["name", "npi", "practice"]

    @admin.display(boolean=True, description="NPI check digit")
    def npi_ok(self, obj):
        return obj.npi_valid

    def has_delete_permission(self, request, obj=None):
        return False
