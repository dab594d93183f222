"""Celery entry points of the pumps app. Each is a few lines calling a service."""

from datetime import timedelta

from celery import shared_task
from celery.schedules import crontab

from core.shipping import pharmacy_today

from .services.kits.alerts import kit_alerts_escalate
from .services.kits.dispatch import kits_dispatch
from .services.kits.gating import kits_prescription_changed
from .services.kits.scan import kits_scan
from .services.schedules import pump_schedules_refresh_due


@shared_task(acks_late=True, ignore_result=True)
def pump_schedules_refresh_task() -> list[int]:
    """Recompute the stored schedules of pumps due to ship by tomorrow (time alone can make them critical).

    Idempotent; sends ``pump_schedule_changed`` for the pumps whose schedule changed.
    """
    return pump_schedules_refresh_due(ship_by_on_or_before=pharmacy_today() + timedelta(days=1))


@shared_task(acks_late=True, ignore_result=True)
def kits_scan_task(pump_ids: list[int] | None = None) -> list[int]:
    """Make standing orders' kit orders for due pumps and alert due pumps without one (daily, and on changes)."""
    return kits_scan(pump_ids=pump_ids).created


@shared_task(acks_late=True, ignore_result=True)
def kits_dispatch_task() -> list[int]:
    """Ship the kits whose ship-by day has come; alert what cannot ship (beat, hourly)."""
    return kits_dispatch()


@shared_task(acks_late=True, ignore_result=True)
def kit_alerts_escalate_task() -> list[int]:
    """Escalate open kit alerts one level per interval (beat)."""
    return kit_alerts_escalate()


@shared_task(acks_late=True, ignore_result=True)
def kits_prescription_changed_task(prescription_id: int) -> list[int]:
    """Gate the patient's kit orders waiting for this prescription."""
    return kits_prescription_changed(prescription_id=prescription_id)


BEAT_SCHEDULE = {
    # Hourly, so that a kit whose carrier cut-off has passed turns critical within the hour.
    "pumps-schedules-refresh": {
        "task": "pumps.tasks.pump_schedules_refresh_task",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "pumps-kits-scan": {"task": "pumps.tasks.kits_scan_task", "schedule": 86400.0, "options": {"expires": 3600}},
    # Hourly: several runs on every ship-by day before the carrier's cut-off.
    "pumps-kits-dispatch": {"task": "pumps.tasks.kits_dispatch_task", "schedule": 3600.0, "options": {"expires": 3000}},
    "pumps-kit-alerts-escalate": {
        "task": "pumps.tasks.kit_alerts_escalate_task",
        "schedule": 900.0,
        "options": {"expires": 850},
    },
}
