"""Prescription, patient and FHIR routes, mounted under /api/v1/ (names are global: rx-*)."""

from django.urls import path

from . import views

urlpatterns = [
    path("prescriptions/", views.PrescriptionListCreateView.as_view(), name="rx-prescription-list"),
    path("prescriptions/<int:pk>/", views.PrescriptionDetailView.as_view(), name="rx-prescription-detail"),
    path("prescriptions/<int:pk>/response/", views.PrescriptionResponseView.as_view(), name="rx-prescription-response"),
    path("patients/", views.PatientListCreateView.as_view(), name="rx-patient-list"),
    path("patients/<int:pk>/", views.PatientDetailView.as_view(), name="rx-patient-detail"),
    path("fhir/MedicationRequest", views.MedicationRequestImportView.as_view(), name="rx-fhir-medicationrequest"),
    path("fhir/MedicationDispense/<int:pk>", views.MedicationDispenseView.as_view(), name="rx-fhir-medicationdispense"),
]
