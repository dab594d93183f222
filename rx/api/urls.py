"""API routes of the rx app, mounted under /api/v1/. Each concern keeps its own url module."""

from django.urls import include, path

urlpatterns = [
    path("", include("rx.api.prescription_urls")),
    path("", include("rx.api.pump_urls")),
]
