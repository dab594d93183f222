"""rx pages (private files, clinic pages). Each concern keeps its own url module."""

from django.urls import include, path

app_name = "rx"
urlpatterns = [
    path("", include("rx.prescription_urls")),
    path("", include("rx.pump_urls")),
]
