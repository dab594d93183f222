"""Admin for pumps, programs, refills and appointments.

Every change goes through ``pumps.services.pumps``, so the stored schedule is recomputed and
``pump_schedule_changed`` is sent: the pump form calls ``pump_create``/``pump_update``; new inline
programs, refills and appointments call ``pump_program_set``/``pump_refill_record``/
``pump_appointment_set``; an appointment's status change calls ``pump_appointment_status_set``.
Recorded programs and refills are history: shown read-only, never edited or deleted here.
The stored schedule fields are read-only. Only pharmacy staff open it, and see the pumps
``pumps.access`` lets them. What is shown is recorded in the PHI audit log (``access.record_view``);
each save of the form is recorded once by ``pump_create``/``pump_update`` (detail "admin"), its inline
history rows included.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils import timezone

from pumps import access
from pumps.models import SCHEDULE_FIELDS, Pump, PumpProgram, PumpRefill, RefillAppointment
from pumps.services import pumps as pump_services
from pumps.services.schedules import pump_schedule_recompute
from pumps.state import APPOINTMENT_TRANSITIONS

# The stored schedule, read-only; the warnings (JSON) are shown as text.
SCHEDULE_READONLY = ["warning_list" if name == "warnings" else name for name in SCHEDULE_FIELDS]


class _HistoryInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_change_permission(self, request, obj=None):
        return False  # history is appended through the services, never edited


class PumpProgramInline(_HistoryInline):
    model = PumpProgram
    fields = ["effective_at", "daily_dose_mcg", "concentration_mcg_per_ml", "created_by", "created_at"]
    readonly_fields = ["created_by", "created_at"]
    ordering = ["-effective_at"]


class PumpRefillInline(_HistoryInline):
    model = PumpRefill
    fields = [
        "filled_at",
        "volume_filled_ml",
        "concentration_mcg_per_ml",
        "residual_withdrawn_ml",
        "notes",
        "created_by",
    ]
    readonly_fields = ["created_by"]
    ordering = ["-filled_at"]


class AppointmentForm(forms.ModelForm):
    class Meta:
        model = RefillAppointment
        fields = ["scheduled_at", "status"]

    def clean(self):
        data = super().clean()
        if self.instance.pk is None:
            if data.get("scheduled_at") and data["scheduled_at"] <= timezone.now():
                self.add_error("scheduled_at", "The appointment must be in the future.")
            if data.get("status") not in (None, RefillAppointment.Status.SCHEDULED):
                self.add_error("status", "A new appointment is scheduled.")
        elif "scheduled_at" in self.changed_data:
            self.add_error("scheduled_at", "Add a new appointment instead of moving this one.")
        elif "status" in self.changed_data:
            allowed = APPOINTMENT_TRANSITIONS[self.initial["status"]]
            if data.get("status") not in allowed:
                self.add_error("status", "This appointment's status can no longer change.")
        return data


class RefillAppointmentInline(admin.TabularInline):
    model = RefillAppointment
    form = AppointmentForm
    extra = 0
    can_delete = False
    ordering = ["-scheduled_at"]


@admin.register(Pump)
class PumpAdmin(admin.ModelAdmin):
    list_display = [
        "__str__",
        "patient",
        "clinic_name",
        "active",
        "alarm_date",
        "refill_due",
        "ship_by",
        "expected_delivery",
        "has_critical_warning",
    ]
    list_filter = ["active", "has_critical_warning", "manufacturer", "model", "patient__clinic"]
    search_fields = ["serial_number", "patient__last_name", "patient__first_name"]
    list_select_related = ["patient__clinic"]
    raw_id_fields = ["patient"]
    date_hierarchy = "ship_by"
    inlines = [PumpProgramInline, PumpRefillInline, RefillAppointmentInline]
    readonly_fields = SCHEDULE_READONLY
    actions = ["recompute_schedule"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "patient",
                    "manufacturer",
                    "model",
                    "serial_number",
                    "reservoir_volume_ml",
                    "alarm_volume_ml",
                    "implanted_on",
                    "battery_replacement_on",
                    "active",
                    "notes",
                ]
            },
        ),
        ("Refill schedule (computed)", {"fields": SCHEDULE_READONLY}),
    ]

    @admin.display(description="Clinic", ordering="patient__clinic__name")
    def clinic_name(self, pump):
        return pump.patient.clinic.name if pump.patient.clinic_id else "-"

    @admin.display(description="Warnings")
    def warning_list(self, pump):
        return "; ".join(f"[{w['severity']}] {w['message']}" for w in pump.warnings) or "-"

    # Pumps are PHI: only pharmacists and superusers, whatever model permissions a plain staff
    # account holds; the rows are those ``pumps.access`` lets the user see.
    def get_queryset(self, request):
        return access.pumps_visible_to(request.user).select_related("patient__clinic")

    def has_module_permission(self, request):
        return access.is_pharmacy_staff(request.user) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return access.is_pharmacy_staff(request.user) and super().has_view_permission(request, obj)

    def has_add_permission(self, request):
        return access.is_pharmacy_staff(request.user) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return access.is_pharmacy_staff(request.user) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return access.is_pharmacy_staff(request.user) and super().has_delete_permission(request, obj)

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        cl = getattr(response, "context_data", None) and response.context_data.get("cl")
        if cl is not None:
            access.record_views(request, list(cl.result_list), detail="admin list")
        return response

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        pump = getattr(response, "context_data", {}).get("original")
        if request.method == "GET" and pump is not None and response.status_code == 200:
            access.record_view(request, pump, detail="admin")
        return response

    def save_model(self, request, obj, form, change):
        data = {name: form.cleaned_data[name] for name in form.changed_data if name in form.cleaned_data}
        if change:
            # Saved even when only the inlines changed: the save is audited, and the schedule recomputed.
            updated = pump_services.pump_update(pump=obj, request=request, audit_detail="admin", **data)
            obj.__dict__.update({k: v for k, v in updated.__dict__.items() if not k.startswith("_")})
        else:
            created = pump_services.pump_create(
                patient=obj.patient,
                model=obj.model,
                serial_number=obj.serial_number,
                alarm_volume_ml=obj.alarm_volume_ml,
                implanted_on=obj.implanted_on,
                manufacturer=obj.manufacturer,
                reservoir_volume_ml=obj.reservoir_volume_ml,
                battery_replacement_on=obj.battery_replacement_on,
                notes=obj.notes,
                request=request,
                audit_detail="admin",
            )
            obj.pk = created.pk
            obj._state.adding = False
            obj.refresh_from_db()

    def save_formset(self, request, form, formset, change):
        pump = form.instance
        # The admin's change message reads these, which formset.save() would have set.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        for inline_form in formset.forms:
            if not inline_form.has_changed() or not inline_form.is_valid():
                continue
            data = inline_form.cleaned_data
            if data.get("DELETE"):
                continue
            instance = inline_form.instance
            if formset.model is PumpProgram and instance.pk is None:
                created = pump_services.pump_program_set(
                    pump=pump,
                    daily_dose_mcg=data["daily_dose_mcg"],
                    concentration_mcg_per_ml=data["concentration_mcg_per_ml"],
                    effective_at=data["effective_at"],
                    user=request.user,
                )
            elif formset.model is PumpRefill and instance.pk is None:
                created = pump_services.pump_refill_record(
                    pump=pump,
                    filled_at=data["filled_at"],
                    volume_filled_ml=data["volume_filled_ml"],
                    concentration_mcg_per_ml=data["concentration_mcg_per_ml"],
                    residual_withdrawn_ml=data.get("residual_withdrawn_ml") or 0,
                    notes=data.get("notes", ""),
                    user=request.user,
                )
            elif formset.model is RefillAppointment:
                if instance.pk is None:
                    created = pump_services.pump_appointment_set(
                        pump=pump, scheduled_at=data["scheduled_at"], user=request.user
                    )
                elif "status" in inline_form.changed_data:
                    changed = pump_services.pump_appointment_status_set(appointment=instance, status=data["status"])
                    formset.changed_objects.append((changed, ["status"]))
                    continue
                else:
                    continue
            else:
                continue
            formset.new_objects.append(created)

    @admin.action(description="Recompute the refill schedule")
    def recompute_schedule(self, request, queryset):
        for pump in queryset.select_related("patient__clinic"):
            try:
                pump_schedule_recompute(pump=pump)
            except ValidationError as exc:  # pragma: no cover - defensive: a pump with inconsistent history
                self.message_user(request, f"{pump}: {exc}", messages.ERROR)
        self.message_user(request, "Schedules recomputed.", messages.SUCCESS)
