"""rx pages: private prescription files (mounted at /, namespace ``rx``)."""

from django.urls import path

from .views import prescriptions as views

app_name = "rx"
urlpatterns = [path("rx/prescriptions/<int:pk>/file/", views.prescription_file, name="prescription-file")]
