"""Read queries for pumps, clinic patients and kit orders, shared by the API, the pages, the admin and the
kit scan, with their joins decided once. Who may read what is ``pumps.access``: these take the
queryset it allows (or read for the system: the scan, the refresh).
"""

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from pumps.models import KitOrder, Pump, PumpProgram, PumpRefill, RefillAppointment
from rx.models import Clinic, Patient

__all__ = [
    "clinic_patients",
    "clinic_kit_orders",
    "pump_list",
    "pump_with_history",
    "pumps_due_for_kit",
    "pumps_at_risk",
]


def clinic_patients(patients: QuerySet[Patient]) -> QuerySet[Patient]:
    """Clinic patients with the number of their active pumps, by name."""
    return patients.annotate(pump_count=Count("pumps", filter=Q(pumps__active=True))).order_by(
        "last_name", "first_name", "id"
    )


def clinic_kit_orders(clinic: Clinic) -> QuerySet[KitOrder]:
    """The clinic's kit orders, newest first, with their shop order, product and alerts."""
    return (
        KitOrder.objects.filter(clinic=clinic)
        .select_related("order", "product")
        .prefetch_related("alerts")
        .order_by("-created_at", "-pk")
    )


def pump_list(queryset: QuerySet[Pump] | None = None) -> QuerySet[Pump]:
    """Pumps with their patient and clinic (the stored schedule needs no further query)."""
    queryset = Pump.objects.all() if queryset is None else queryset
    return queryset.select_related("patient__clinic")


def pump_with_history(queryset: QuerySet[Pump] | None = None) -> QuerySet[Pump]:
    """``pump_list`` plus programs, refills and appointments, newest first where it matters."""
    return pump_list(queryset).prefetch_related(
        Prefetch("programs", queryset=PumpProgram.objects.order_by("effective_at", "id")),
        Prefetch("refills", queryset=PumpRefill.objects.order_by("-filled_at", "-id")),
        Prefetch("appointments", queryset=RefillAppointment.objects.order_by("-scheduled_at", "-id")),
    )


def pumps_due_for_kit(*, ship_by_on_or_before: date) -> QuerySet[Pump]:
    """Active pumps whose refill kit must ship on or before the date, earliest first.

    Reads the partial index ``pump_active_ship_by_idx`` (active pumps with a stored ship-by date),
    so the cost grows with the number of due pumps, not with all pumps (three queries: pumps,
    their patients, their clinics). ``current_refill_id`` names
    the refill cycle the kit is for. Pumps without a schedule (no refill or program recorded) are
    not "due" but carry a critical warning: see ``pumps_at_risk``.
    """
    # Patients and clinics are prefetched by primary key rather than joined: a join lets the
    # planner hash-join the whole patient table, which would make the scan grow with all pumps.
    return (
        Pump.objects.filter(active=True, ship_by__isnull=False, ship_by__lte=ship_by_on_or_before)
        .prefetch_related("patient__clinic")
        .order_by("ship_by", "pk")
    )


def pumps_at_risk() -> QuerySet[Pump]:
    """Active pumps with a critical warning (stored), earliest alarm first; read through a partial index."""
    return (
        Pump.objects.filter(active=True, has_critical_warning=True)
        .select_related("patient__clinic")
        .order_by("alarm_at", "pk")
    )
