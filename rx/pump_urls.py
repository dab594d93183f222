"""Clinic pump pages (namespace ``rx:``)."""

from django.urls import path

from . import views_pumps as views

urlpatterns = [
    path("clinics/", views.clinic_list, name="clinics"),
    path("clinics/<int:clinic_id>/pumps/", views.clinic_pumps, name="clinic-pumps"),
    path("clinics/pumps/<int:pk>/", views.pump_detail, name="pump-detail"),
]
