"""Celery entry points of the rx app. Each is a few lines calling a service."""

from celery import shared_task
from celery.schedules import crontab

from .services.prescriptions import prescriptions_expire


@shared_task(acks_late=True, ignore_result=True)
def prescriptions_expire_task() -> list[int]:
    """Mark prescriptions past their expiry date as expired (idempotent)."""
    return prescriptions_expire()


BEAT_SCHEDULE = {
    "rx-prescriptions-expire": {
        "task": "rx.tasks.prescriptions_expire_task",
        "schedule": crontab(minute=15, hour=5),
        "options": {"expires": 3600},
    }
}
