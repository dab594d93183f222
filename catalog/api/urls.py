"""API routes of the catalog app, mounted under /api/v1/."""

from django.urls import path  # noqa: F401

app_name = "catalog-api"
urlpatterns: list = []
