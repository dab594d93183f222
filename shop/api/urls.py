"""API routes of the shop app, mounted under /api/v1/."""

from django.urls import path  # noqa: F401

app_name = "shop-api"
urlpatterns: list = []
