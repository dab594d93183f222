"""Read queries for prescriptions and patients shared by the API, the pages and the admin.

Access is decided in ``rx.access``; these add the joins, once.
"""

from django.db.models import Prefetch, QuerySet

from . import access
from .models import Decision, Finding, Patient, Prescription


def prescription_list(user) -> QuerySet[Prescription]:
    """Prescriptions ``user`` may see, newest first, with everything the list shows."""
    return (
        access.prescriptions_visible_to(user)
        .select_related("patient", "drug", "product", "prescriber")
        .prefetch_related(
            Prefetch("findings", queryset=Finding.objects.order_by("id")),
            Prefetch("decisions", queryset=Decision.objects.order_by("created_at", "id")),
        )
        .order_by("-created_at", "-id")
    )


def patient_list(user) -> QuerySet[Patient]:
    return (
        access.patients_visible_to(user).prefetch_related("current_products").order_by("last_name", "first_name", "id")
    )


def verification_queue() -> QuerySet[Prescription]:
    """Prescriptions waiting on a pharmacist: urgent first, then oldest first."""
    return (
        Prescription.objects.filter(status__in=Prescription.QUEUE_STATUSES)
        .select_related("patient", "drug", "product", "prescriber")
        .order_by("-priority", "created_at", "id")
    )
