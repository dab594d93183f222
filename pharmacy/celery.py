"""The Celery application. Tasks live in each app's ``tasks.py``; beat entries in BEAT_SCHEDULE there."""

import os
from importlib import import_module

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")

app = Celery("pharmacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def _collect_beat_schedule(sender, **kwargs):
    """Merge each app's ``BEAT_SCHEDULE`` (declared next to its tasks) into the beat schedule."""
    from django.conf import settings

    for label in ("catalog", "rx", "shop"):
        try:
            module = import_module(f"{label}.tasks")
        except ModuleNotFoundError as exc:
            if exc.name != f"{label}.tasks":
                raise
            continue
        sender.conf.beat_schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    sender.conf.beat_schedule.update(settings.CELERY_BEAT_SCHEDULE)
