"""The Celery application. Tasks live in each app's ``tasks.py``; beat entries in BEAT_SCHEDULE there."""

import os
from importlib import import_module

from celery import Celery
from django.apps import apps
from django.conf import settings
from django.utils.module_loading import module_has_submodule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "pharmacy.settings")

app = Celery("pharmacy")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def collect_beat_schedule(sender, **kwargs):
    """Merge every installed app's ``BEAT_SCHEDULE`` (declared next to its tasks) into the beat schedule,
    then ``settings.CELERY_BEAT_SCHEDULE``."""
    for config in apps.get_app_configs():
        if module_has_submodule(config.module, "tasks"):
            module = import_module(f"{config.name}.tasks")
            sender.conf.beat_schedule.update(getattr(module, "BEAT_SCHEDULE", {}))
    sender.conf.beat_schedule.update(settings.CELERY_BEAT_SCHEDULE)
