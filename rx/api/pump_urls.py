"""API routes for clinics, clinic patients, pumps and their schedules (mounted under /api/v1/)."""

from django.urls import path

from . import pumps as views

urlpatterns = [
    path("clinics/", views.ClinicListView.as_view(), name="rx-api-clinics"),
    path("clinics/<int:clinic_id>/patients/", views.ClinicPatientListView.as_view(), name="rx-api-clinic-patients"),
    path("clinics/<int:clinic_id>/pumps/", views.ClinicPumpListView.as_view(), name="rx-api-clinic-pumps"),
    path("pumps/<int:pk>/", views.PumpDetailView.as_view(), name="rx-api-pump"),
    path("pumps/<int:pk>/programs/", views.PumpProgramListView.as_view(), name="rx-api-pump-programs"),
    path("pumps/<int:pk>/refills/", views.PumpRefillListView.as_view(), name="rx-api-pump-refills"),
    path("pumps/<int:pk>/appointments/", views.PumpAppointmentListView.as_view(), name="rx-api-pump-appointments"),
    path("pumps/<int:pk>/appointments/<int:appointment_id>/", views.PumpAppointmentDetailView.as_view(),
         name="rx-api-pump-appointment"),
    path("pumps/<int:pk>/schedule/", views.PumpScheduleView.as_view(), name="rx-api-pump-schedule"),
]
