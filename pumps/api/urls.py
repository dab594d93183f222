"""API routes for clinics, clinic patients, pumps, schedules, kit orders and kit alerts (under /api/v1/,
URL names in the ``pumps-api`` namespace)."""

from django.urls import path

from .views import kits, pumps

app_name = "pumps-api"
urlpatterns = [
    path("clinics/", pumps.ClinicListView.as_view(), name="clinics"),
    path("clinics/<int:clinic_id>/patients/", pumps.ClinicPatientListView.as_view(), name="clinic-patients"),
    path("clinics/<int:clinic_id>/pumps/", pumps.ClinicPumpListView.as_view(), name="clinic-pumps"),
    path("clinics/<int:clinic_id>/kit-orders/", kits.ClinicKitOrderListView.as_view(), name="clinic-kit-orders"),
    path(
        "clinics/<int:clinic_id>/kit-orders/<int:pk>/cancel/",
        kits.ClinicKitOrderCancelView.as_view(),
        name="clinic-kit-order-cancel",
    ),
    path("pumps/<int:pk>/", pumps.PumpDetailView.as_view(), name="pump"),
    path("pumps/<int:pk>/programs/", pumps.PumpProgramListView.as_view(), name="pump-programs"),
    path("pumps/<int:pk>/refills/", pumps.PumpRefillListView.as_view(), name="pump-refills"),
    path("pumps/<int:pk>/appointments/", pumps.PumpAppointmentListView.as_view(), name="pump-appointments"),
    path(
        "pumps/<int:pk>/appointments/<int:appointment_id>/",
        pumps.PumpAppointmentDetailView.as_view(),
        name="pump-appointment",
    ),
    path("pumps/<int:pk>/schedule/", pumps.PumpScheduleView.as_view(), name="pump-schedule"),
    path("kit-alerts/", kits.KitAlertListView.as_view(), name="kit-alerts"),
    path("kit-alerts/<int:pk>/resolve/", kits.KitAlertResolveView.as_view(), name="kit-alert-resolve"),
]
