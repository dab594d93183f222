"""API routes of the rx app, mounted under /api/v1/."""

from django.urls import path  # noqa: F401

app_name = "rx-api"
urlpatterns: list = []
