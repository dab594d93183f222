"""Storefront pages of the rx app."""

from django.urls import path  # noqa: F401

app_name = "rx"
urlpatterns: list = []
