"""Who may see and do what with protected health information (PHI), in one place.

The API, the pages and the admin all ask these functions; none decides on its own.

- Anonymous users see nothing.
- A shopper sees the patients on their account and those patients' prescriptions.
- Clinic staff see their clinic's patients and prescriptions.
- A pharmacist (member of the "Pharmacist" group) also sees the prescriptions waiting for
  verification (received, in review, needs information), the ones they decided, and the
  patients of those prescriptions.
- A superuser sees everything.

Clinics (their pages and API live in ``pumps``, which asks these through ``pumps.access``): clinic staff
see and change their own clinics' patients; superusers read every clinic; pharmacists read the clinics
(and, within them, the patients) of the patients they may see, no wider. Some clinic records (kit
orders) are for the clinic's own staff only: ``clinic_for_staff``.

Everything else is answered as if it did not exist (404, never 403), so ids cannot be probed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeGuard

from django.db.models import Exists, Model, OuterRef, Q, QuerySet

from core.errors import NotFound

from .models import Clinic, ClinicMembership, Decision, Dispense, Patient, Prescription

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

PHARMACIST_GROUP = "Pharmacist"


def is_authenticated(user: User | AnonymousUser | None) -> TypeGuard[User]:
    return bool(user is not None and user.is_authenticated and user.is_active)


def is_rx_admin(user: User | AnonymousUser) -> TypeGuard[User]:
    return is_authenticated(user) and user.is_superuser


def is_pharmacist(user: User | AnonymousUser) -> TypeGuard[User]:
    """True for active members of the Pharmacist group (superusers are not pharmacists)."""
    if not is_authenticated(user):
        return False
    cached: bool | None = getattr(user, "_rx_is_pharmacist", None)
    if cached is None:
        cached = user.groups.filter(name=PHARMACIST_GROUP).exists()
        user._rx_is_pharmacist = cached  # type: ignore[attr-defined]  # memoised on the user object for the request
    return cached


def can_decide(user: User | AnonymousUser) -> TypeGuard[User]:
    """Only pharmacists may approve, reject or request information."""
    return is_pharmacist(user)


def clinic_ids_of(user: User | AnonymousUser) -> list[int]:
    if not is_authenticated(user):
        return []
    return list(ClinicMembership.objects.filter(user=user).values_list("clinic_id", flat=True))


def _owned_patient_q(user: User, prefix: str = "") -> Q:
    return Q(**{f"{prefix}account": user}) | Q(**{f"{prefix}clinic__in": clinic_ids_of(user)})


def _pharmacist_prescription_q(user: User) -> Q:
    decided = Decision.objects.filter(prescription=OuterRef("pk"), pharmacist=user)
    return Q(status__in=Prescription.QUEUE_STATUSES) | Q(Exists(decided))


def patients_owned_by(user: User | AnonymousUser) -> QuerySet[Patient]:
    """Patients the user may act for (upload, transfer, import): their own or their clinic's."""
    if not is_authenticated(user):
        return Patient.objects.none()
    if user.is_superuser:
        return Patient.objects.all()
    return Patient.objects.filter(_owned_patient_q(user))


def patients_visible_to(user: User | AnonymousUser) -> QuerySet[Patient]:
    if not is_authenticated(user):
        return Patient.objects.none()
    if user.is_superuser:
        return Patient.objects.all()
    q = _owned_patient_q(user)
    if is_pharmacist(user):
        in_scope = Prescription.objects.filter(_pharmacist_prescription_q(user), patient=OuterRef("pk"))
        q |= Q(Exists(in_scope))
    return Patient.objects.filter(q)


def prescriptions_visible_to(user: User | AnonymousUser) -> QuerySet[Prescription]:
    if not is_authenticated(user):
        return Prescription.objects.none()
    if user.is_superuser:
        return Prescription.objects.all()
    q = _owned_patient_q(user, prefix="patient__")
    if is_pharmacist(user):
        q |= _pharmacist_prescription_q(user)
    return Prescription.objects.filter(q)


def dispenses_visible_to(user: User | AnonymousUser) -> QuerySet[Dispense]:
    return Dispense.objects.filter(prescription__in=prescriptions_visible_to(user).values("pk"))


def get_or_404[M: Model](queryset: QuerySet[M], pk: int | str, what: str) -> M:
    """``queryset.get(pk=pk)``, or NotFound (404) naming ``what`` if absent or ``pk`` is not an integer."""
    try:
        return queryset.get(pk=int(pk))
    # django-stubs gives DoesNotExist to concrete models only; a queryset's model is always one.
    except (queryset.model.DoesNotExist, TypeError, ValueError):  # type: ignore[attr-defined]
        raise NotFound(f"{what} not found.") from None


def prescription_for(user: User | AnonymousUser, pk: int | str) -> Prescription:
    """Return the prescription if ``user`` may see it; otherwise raise NotFound (404)."""
    return get_or_404(
        prescriptions_visible_to(user).select_related("patient", "drug", "product", "prescriber"), pk, "Prescription"
    )


def patient_for(user: User | AnonymousUser, pk: int | str) -> Patient:
    return get_or_404(patients_visible_to(user), pk, "Patient")


def owned_patient_for(user: User | AnonymousUser, pk: int | str) -> Patient:
    """Return a patient the user may act for; anyone else's patient is 'not found'."""
    return get_or_404(patients_owned_by(user), pk, "Patient")


def owned_prescription_for(user: User | AnonymousUser, pk: int | str) -> Prescription:
    """Return a prescription of a patient the user may act for (not a pharmacist's view of the
    queue); anyone else's is 'not found'."""
    return get_or_404(
        Prescription.objects.filter(patient__in=patients_owned_by(user)).select_related("patient"), pk, "Prescription"
    )


def dispense_for(user: User | AnonymousUser, pk: int | str) -> Dispense:
    return get_or_404(dispenses_visible_to(user).select_related("prescription__patient", "product"), pk, "Dispense")


def can_view_prescription(user: User | AnonymousUser, prescription: Prescription) -> bool:
    return prescriptions_visible_to(user).filter(pk=prescription.pk).exists()


def can_review(user: User | AnonymousUser) -> TypeGuard[User]:
    """May open the verification queue and review pages (deciding needs ``can_decide``)."""
    return is_pharmacist(user) or is_rx_admin(user)


def review_history_for(user: User | AnonymousUser, prescription: Prescription) -> QuerySet[Prescription]:
    """The patient's other prescriptions, for whoever may review ``prescription``.

    A pharmacist needs the whole medication history of the patient under review (duplicate
    therapy, early refills), not only what is in the queue.
    """
    if not (can_review(user) and can_view_prescription(user, prescription)):
        return Prescription.objects.none()
    return (
        Prescription.objects.filter(patient_id=prescription.patient_id)
        .exclude(pk=prescription.pk)
        .select_related("drug", "product")
        .order_by("-created_at")
    )


def can_read_all_clinics(user: User | AnonymousUser) -> bool:
    """Only superusers read every clinic's patients (and pumps)."""
    return is_rx_admin(user)


def clinics_visible_to(user: User | AnonymousUser) -> QuerySet[Clinic]:
    if not is_authenticated(user):
        return Clinic.objects.none()
    if can_read_all_clinics(user):
        return Clinic.objects.all()
    q = Q(pk__in=clinic_ids_of(user))
    if is_pharmacist(user):
        q |= Q(patients__in=patients_visible_to(user).values("pk"))
    return Clinic.objects.filter(q).distinct()


def clinic_for(user: User | AnonymousUser, pk: int | str) -> Clinic:
    """Return the clinic if the user may see it; otherwise raise NotFound (404)."""
    return get_or_404(clinics_visible_to(user), pk, "Clinic")


def can_manage_clinic(user: User | AnonymousUser, clinic: Clinic) -> bool:
    """Only the clinic's own staff change its patients (and pumps)."""
    return is_authenticated(user) and clinic.pk in clinic_ids_of(user)


def clinic_for_staff(user: User | AnonymousUser, pk: int | str) -> Clinic:
    """The clinic if ``user`` is one of its staff; anyone else (pharmacist and superuser too) gets NotFound."""
    return get_or_404(Clinic.objects.filter(pk__in=clinic_ids_of(user)), pk, "Clinic")


def clinic_patients_visible_to(user: User | AnonymousUser, clinic: Clinic) -> QuerySet[Patient]:
    """The clinic's patients; for a reader who is not the clinic's staff, only those they may see."""
    patients = clinic.patients.all()
    if not can_read_all_clinics(user) and not can_manage_clinic(user, clinic):
        patients = patients.filter(pk__in=patients_visible_to(user).values("pk"))
    return patients
