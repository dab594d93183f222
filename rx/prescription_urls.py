"""Prescription pages (namespace ``rx:``)."""

from django.urls import path

from . import prescription_views as views

urlpatterns = [
    path("rx/prescriptions/<int:pk>/file/", views.prescription_file, name="prescription-file"),
]
