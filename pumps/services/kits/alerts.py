"""Kit alerts: raise (one open per kit order or due pump and reason), notify, escalate, resolve; and the
late and cannot-arrive checks that raise or close them. See ``pumps.services.kits``."""

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from core.errors import NotFound
from core.shipping import pharmacy_today
from pumps.models import KitAlert, KitAlertEscalation, KitOrder, Pump
from rx.models import Clinic

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

__all__ = ["kit_alert_raise", "kit_alert_resolve", "kit_alerts_close", "kit_alerts_escalate", "kits_check_late"]

log = logging.getLogger(__name__)
Reason = KitAlert.Reason


def _recipients(clinic: Clinic, level: int) -> list[str]:
    emails = [clinic.email] if clinic.email else []
    emails += [u.email for u in clinic.staff.filter(is_active=True).exclude(email="").order_by("pk")]
    emails += list(settings.PHARMACY_STAFF_EMAILS)
    if level >= 2:
        emails += list(settings.KIT_ALERT_ESCALATION_EMAILS)
    return list(dict.fromkeys(e for e in emails if e))


def _subject(alert: KitAlert, level: int) -> str:
    what = f"{alert.get_reason_display()} - pump {alert.pump_id}"
    if alert.kit_order_id:
        what += f", kit order {alert.kit_order_id}"
    if level == 0:
        return f"Refill kit alert: {what}"
    if level == 1:
        return f"URGENT refill kit alert (unresolved): {what}"
    return f"CRITICAL - ESCALATION {level}: refill kit alert still unresolved: {what}"


def _notify(alert: KitAlert, level: int, now: datetime) -> None:
    """Record the notice for ``level`` and send it after the commit."""
    recipients = _recipients(alert.clinic, level)
    subject = _subject(alert, level)
    KitAlertEscalation.objects.create(alert=alert, level=level, recipients=recipients, subject=subject, created_at=now)
    body = (
        f"{alert.message}\n\nClinic: {alert.clinic.name}\nPump: {alert.pump_id}\n"
        f"Opened: {alert.opened_at:%Y-%m-%d %H:%M %Z}. Escalation level {level}.\n\n"
        "Abrupt discontinuation of intrathecal baclofen can be fatal. This alert escalates every "
        f"{settings.KIT_ALERT_ESCALATE_HOURS:g} hours until someone resolves it in the back office."
    )

    def send() -> None:
        try:
            send_mail(subject=subject, message=body, from_email=settings.DEFAULT_FROM_EMAIL, recipient_list=recipients)
        except Exception:  # the next escalation sends again; the notice is recorded either way
            log.exception("Could not send kit alert %s level %s", alert.pk, level)

    if recipients:
        transaction.on_commit(send)


def kit_alert_raise(
    *, pump: Pump, reason: str, message: str, kit_order: KitOrder | None = None, now: datetime | None = None
) -> tuple[KitAlert, bool]:
    """Open an alert (and notify level 0) unless the same one is open already. Returns (alert, created)."""
    now = now or timezone.now()
    open_alerts = KitAlert.objects.filter(pump_id=pump.pk, reason=reason, resolved_at__isnull=True)
    open_alerts = open_alerts.filter(kit_order=kit_order) if kit_order else open_alerts.filter(kit_order__isnull=True)
    existing = open_alerts.first()
    if existing:
        return existing, False
    clinic_id = kit_order.clinic_id if kit_order else pump.clinic_id
    alert = KitAlert(
        pump_id=pump.pk,
        kit_order=kit_order,
        clinic_id=clinic_id,
        reason=reason,
        message=message,
        opened_at=now,
        last_escalated_at=now,
    )
    try:
        with transaction.atomic():
            alert.save()
    except IntegrityError:
        existing = open_alerts.first()
        if existing is None:
            raise
        return existing, False
    _notify(alert, 0, now)
    return alert, True


def kit_alert_resolve(
    *, alert_id: int, user: "User | AnonymousUser | None" = None, resolution: str = "", now: datetime | None = None
) -> KitAlert:
    """Close an alert (staff); it stops escalating. Closing a closed alert changes nothing."""
    now = now or timezone.now()
    with transaction.atomic():
        try:
            alert = KitAlert.objects.select_for_update().get(pk=alert_id)
        except KitAlert.DoesNotExist:
            raise NotFound("Alert not found.") from None
        if alert.resolved_at is None:
            alert.resolved_at = now
            # An authenticated user is an AUTH_USER_MODEL (auth.User) row.
            alert.resolved_by = cast("User", user) if getattr(user, "is_authenticated", False) else None
            alert.resolution = resolution or "Resolved by staff."
            alert.save(update_fields=["resolved_at", "resolved_by", "resolution"])
    return alert


def kit_alerts_close(
    *,
    now: datetime,
    resolution: str,
    reasons: Iterable[str] | None = None,
    kit_order_id: int | None = None,
    pump_id: int | None = None,
) -> int:
    """Close the open alerts whose cause is gone (of a kit order, or a pump's pump-level ones)."""
    qs = KitAlert.objects.filter(resolved_at__isnull=True)
    if kit_order_id is not None:
        qs = qs.filter(kit_order_id=kit_order_id)
    elif pump_id is not None:
        qs = qs.filter(pump_id=pump_id, kit_order__isnull=True)
    else:
        raise ValueError("Name the kit order or the pump whose alerts are closed.")
    if reasons is not None:
        qs = qs.filter(reason__in=list(reasons))
    return qs.update(resolved_at=now, resolution=resolution)


def kit_alerts_escalate(*, now: datetime | None = None) -> list[int]:
    """Raise every open alert not escalated for ``KIT_ALERT_ESCALATE_HOURS`` one level; returns their ids."""
    now = now or timezone.now()
    cutoff = now - timedelta(hours=settings.KIT_ALERT_ESCALATE_HOURS)
    escalated = []
    for alert in (
        KitAlert.objects.filter(resolved_at__isnull=True, last_escalated_at__lte=cutoff)
        .select_related("clinic")
        .order_by("pk")
    ):
        with transaction.atomic():
            # Conditional UPDATE: two runs at once escalate an alert once.
            if not KitAlert.objects.filter(
                pk=alert.pk, level=alert.level, resolved_at__isnull=True, last_escalated_at__lte=cutoff
            ).update(level=alert.level + 1, last_escalated_at=now):
                continue
            alert.level += 1
            alert.last_escalated_at = now
            _notify(alert, alert.level, now)
        escalated.append(alert.pk)
    return escalated


def kits_check_late(*, kit_ids: list[int], now: datetime | None = None) -> list[int]:
    """Alert kits that are late or cannot arrive in time; close those alerts whose cause is gone."""
    now = now or timezone.now()
    today = pharmacy_today(now)
    alerted = []
    kits = KitOrder.objects.filter(pk__in=list(kit_ids)).select_related("pump", "clinic")
    for kit in kits:
        pump = kit.pump
        current = kit.refill_id == pump.current_refill_id
        pending = kit.status in KitOrder.PENDING
        deadline = pump.ship_by_deadline if current else None
        late = (
            pending and kit.ship_by is not None and (today > kit.ship_by or (deadline is not None and now > deadline))
        )
        cannot = (
            pending
            and current
            and (
                pump.kit_feasible is False
                or (kit.expected_delivery and kit.required_delivery and kit.expected_delivery > kit.required_delivery)
                or (
                    kit.expected_delivery
                    and pump.next_appointment_at
                    and kit.expected_delivery > pharmacy_today(pump.next_appointment_at)
                )
            )
        )
        with transaction.atomic():
            for reason, is_bad, text in (
                (Reason.LATE, late, f"The kit had to ship by {kit.ship_by} and has not been dispatched."),
                (
                    Reason.CANNOT_ARRIVE,
                    cannot,
                    f"Expected delivery {kit.expected_delivery} is after the day it is needed "
                    f"({kit.required_delivery}). Ship by the fastest means or move the appointment.",
                ),
            ):
                if is_bad:
                    kit_alert_raise(pump=pump, kit_order=kit, reason=reason, message=text, now=now)
                    alerted.append(kit.pk)
                else:
                    kit_alerts_close(kit_order_id=kit.pk, reasons=[reason], now=now, resolution="No longer the case.")
    return alerted
