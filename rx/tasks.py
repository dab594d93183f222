"""Celery entry points of the rx app. Each is a few lines calling a service."""

from celery import shared_task
from celery.schedules import crontab


@shared_task(acks_late=True, ignore_result=True)
def prescriptions_expire_task() -> list[int]:
    """Mark prescriptions past their expiry date as expired (idempotent)."""
    from .services.prescriptions import prescriptions_expire

    return prescriptions_expire()


@shared_task(acks_late=True, ignore_result=True)
def pump_schedules_refresh_task() -> list[int]:
    """Recompute the stored schedules of pumps due to ship by tomorrow (time alone can make them critical).

    Idempotent; sends ``pump_schedule_changed`` for the pumps whose schedule changed.
    """
    from datetime import timedelta
    from zoneinfo import ZoneInfo

    from django.conf import settings
    from django.utils import timezone

    from .services.pumps import pump_schedules_refresh_due

    today = timezone.localdate(timezone=ZoneInfo(settings.PHARMACY_TIME_ZONE))  # ship-by dates are the pharmacy's
    return pump_schedules_refresh_due(ship_by_on_or_before=today + timedelta(days=1))


BEAT_SCHEDULE = {
    # Hourly, so that a kit whose carrier cut-off has passed turns critical within the hour.
    "rx-pump-schedules-refresh": {
        "task": "rx.tasks.pump_schedules_refresh_task",
        "schedule": crontab(minute=7),
        "options": {"expires": 3000},
    },
    "rx-prescriptions-expire": {
        "task": "rx.tasks.prescriptions_expire_task",
        "schedule": crontab(minute=15, hour=5),
        "options": {"expires": 3600},
    },
}
