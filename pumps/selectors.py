"""Read queries for clinics, their patients and pumps, shared by the API, the pages and the kit scan.

Access (see ``rx.access``): clinic staff see and change their own clinics' patients and pumps;
superusers read every clinic's; pharmacists read the pumps (and clinics) of the patients they
may see in ``rx.access`` (prescriptions in review or decided by them), no wider; anyone else is
told the record does not exist (404). A reader who may see but not change a record gets 403
when they try to change it.
"""

from datetime import date

from django.db.models import Count, Prefetch, Q, QuerySet

from pumps.models import Pump, PumpProgram, PumpRefill, RefillAppointment
from rx import access
from rx.models import Clinic, Patient

__all__ = [
    "can_read_all_clinics",
    "clinics_visible_to",
    "clinic_for",
    "can_manage_clinic",
    "clinic_patients",
    "pumps_visible_to",
    "pump_for",
    "can_manage_pump",
    "pump_list",
    "pump_with_history",
    "pumps_due_for_kit",
    "pumps_at_risk",
]


def can_read_all_clinics(user) -> bool:
    """Only superusers read every clinic's pumps and patients."""
    return access.is_rx_admin(user)


def _pharmacist_patient_ids(user):
    """Patients a pharmacist may see (prescriptions in review or decided by them), as a subquery."""
    return access.patients_visible_to(user).values("pk")


def clinics_visible_to(user) -> QuerySet[Clinic]:
    if not access.is_authenticated(user):
        return Clinic.objects.none()
    if can_read_all_clinics(user):
        return Clinic.objects.all()
    q = Q(pk__in=access.clinic_ids_of(user))
    if access.is_pharmacist(user):
        q |= Q(patients__in=_pharmacist_patient_ids(user))
    return Clinic.objects.filter(q).distinct()


def clinic_for(user, pk) -> Clinic:
    """Return the clinic if the user may see it; otherwise raise NotFound (404)."""
    return access.get_or_404(clinics_visible_to(user), pk, "Clinic")


def can_manage_clinic(user, clinic: Clinic) -> bool:
    """Only the clinic's own staff change its patients and pumps."""
    return access.is_authenticated(user) and clinic.pk in access.clinic_ids_of(user)


def clinic_patients(clinic: Clinic, user=None) -> QuerySet[Patient]:
    """The clinic's patients; for a reader who is not the clinic's staff, only those they may see."""
    patients = clinic.patients.all()
    if user is not None and not can_read_all_clinics(user) and not can_manage_clinic(user, clinic):
        patients = patients.filter(pk__in=_pharmacist_patient_ids(user))
    return patients.annotate(pump_count=Count("pumps", filter=Q(pumps__active=True))).order_by(
        "last_name", "first_name", "id"
    )


def pumps_visible_to(user) -> QuerySet[Pump]:
    if not access.is_authenticated(user):
        return Pump.objects.none()
    if can_read_all_clinics(user):
        return Pump.objects.all()
    q = Q(patient__clinic__in=access.clinic_ids_of(user))
    if access.is_pharmacist(user):
        q |= Q(patient__in=_pharmacist_patient_ids(user))
    return Pump.objects.filter(q)


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


def pump_for(user, pk, *, history: bool = False) -> Pump:
    """Return the pump if the user may see it; otherwise raise NotFound (404)."""
    queryset = pumps_visible_to(user)
    queryset = pump_with_history(queryset) if history else pump_list(queryset)
    return access.get_or_404(queryset, pk, "Pump")


def can_manage_pump(user, pump: Pump) -> bool:
    return access.is_authenticated(user) and pump.patient.clinic_id in access.clinic_ids_of(user)


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
