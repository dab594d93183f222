"""Who may see and change a clinic, its pumps, its kit orders and the kit alerts, in one place.

Every API view, page, admin and service of the pumps app asks this module; none decides on its own.
The clinic rules are rx's (``rx.access``: clinics, their staff and patients) and are re-exported here,
so that the pumps app asks one module.

- Clinics and their patients: clinic staff see and change their own clinics'; superusers read every
  clinic's; pharmacists read the clinics and patients of the patients they may see in ``rx.access``
  (prescriptions in review or decided by them), no wider.
- Pumps: the same, through the pump's patient.
- Kit orders: only the clinic's own staff see, order and cancel them (``clinic_for_staff``,
  ``can_manage_kit_order``); to pharmacists and superusers too they do not exist.
- Kit alerts and the pump back office: pharmacy staff (pharmacists and superusers).

Anyone else is told the record does not exist (404, never 403), so ids cannot be probed. A reader who
may see a clinic or pump but not change it gets 403 (``ChangeRefused``) when they try to.
``record_view``/``record_views`` write what was shown to a person in the PHI audit log (the writes in
``pumps.services`` record their own rows).
"""

from django.db.models import Q, QuerySet

from core.errors import DomainError
from pumps.models import KitOrder, Pump
from pumps.selectors import pump_list, pump_with_history
from rx import access as rx_access
from rx.access import (
    can_manage_clinic,
    can_read_all_clinics,
    clinic_for_staff,
    clinic_patients_visible_to,
    clinics_visible_to,
    is_authenticated,
)
from rx.models import Clinic
from rx.services import audit

__all__ = [
    "ChangeRefused",
    "is_authenticated",
    "can_read_all_clinics",
    "clinics_visible_to",
    "clinic_for",
    "can_manage_clinic",
    "clinic_for_staff",
    "clinic_patients_visible_to",
    "pumps_visible_to",
    "pump_for",
    "can_manage_pump",
    "can_manage_kit_order",
    "is_pharmacy_staff",
    "record_view",
    "record_views",
]


class ChangeRefused(DomainError):
    """The user may read the record but not change it (HTTP 403)."""

    status_code = 403
    code = "permission_denied"


def clinic_for(user, pk, *, manage: bool = False) -> Clinic:
    """The clinic if the user may see it (NotFound otherwise); with ``manage``, only if they may change it."""
    clinic = rx_access.clinic_for(user, pk)
    if manage and not can_manage_clinic(user, clinic):
        raise ChangeRefused("Only the clinic's staff can change its records.")
    return clinic


def pumps_visible_to(user) -> QuerySet[Pump]:
    if not is_authenticated(user):
        return Pump.objects.none()
    if can_read_all_clinics(user):
        return Pump.objects.all()
    q = Q(patient__clinic__in=rx_access.clinic_ids_of(user))
    if rx_access.is_pharmacist(user):
        q |= Q(patient__in=rx_access.patients_visible_to(user).values("pk"))
    return Pump.objects.filter(q)


def can_manage_pump(user, pump: Pump) -> bool:
    """Only the staff of the pump's clinic change it, its programs, refills and appointments."""
    return is_authenticated(user) and pump.patient.clinic_id in rx_access.clinic_ids_of(user)


def pump_for(user, pk, *, history: bool = False, manage: bool = False) -> Pump:
    """Return the pump if the user may see it (NotFound otherwise), with its patient and clinic.

    ``history``: with its programs, refills and appointments. ``manage``: only if they may change it.
    """
    queryset = pumps_visible_to(user)
    queryset = pump_with_history(queryset) if history else pump_list(queryset)
    pump = rx_access.get_or_404(queryset, pk, "Pump")
    if manage and not can_manage_pump(user, pump):
        raise ChangeRefused("Only the clinic's staff can change its pumps.")
    return pump


def can_manage_kit_order(user, kit: KitOrder) -> bool:
    """Only the staff of the kit order's clinic see, order and cancel it."""
    return kit.clinic_id in rx_access.clinic_ids_of(user)


def is_pharmacy_staff(user) -> bool:
    """Pharmacists and superusers: they handle the kit alerts and open the pump back office."""
    return rx_access.is_pharmacist(user) or rx_access.is_rx_admin(user)


# What was shown to a person goes to the PHI audit log through rx's one helper for audited reads.
record_view = audit.audit_view
record_views = audit.audit_view_many
