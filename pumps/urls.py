"""Clinic pages: clinics, their pumps and refill kits (mounted at /, namespace ``pumps``)."""

from django.urls import path

from .views import kits, pumps

app_name = "pumps"
urlpatterns = [
    path("clinics/", pumps.clinic_list, name="clinics"),
    path("clinics/<int:clinic_id>/pumps/", pumps.clinic_pumps, name="clinic-pumps"),
    path("clinics/pumps/<int:pk>/", pumps.pump_detail, name="pump-detail"),
    path("clinics/<int:clinic_id>/kits/", kits.clinic_kits, name="clinic-kits"),
]
