"""The Celery application (pharmacy/celery.py): every installed app's beat entries reach the schedule."""

from types import SimpleNamespace

from django.test import override_settings

import pumps.tasks
import rx.tasks
import shop.tasks
from pharmacy.celery import app, collect_beat_schedule


def test_every_app_with_a_beat_schedule_contributes_its_entries():
    sender = SimpleNamespace(conf=SimpleNamespace(beat_schedule={}))
    collect_beat_schedule(sender)
    for module in (rx.tasks, shop.tasks, pumps.tasks):
        assert module.BEAT_SCHEDULE, module.__name__
        for name, entry in module.BEAT_SCHEDULE.items():
            assert sender.conf.beat_schedule[name] == entry
    assert set(sender.conf.beat_schedule) == {
        *rx.tasks.BEAT_SCHEDULE,
        *shop.tasks.BEAT_SCHEDULE,
        *pumps.tasks.BEAT_SCHEDULE,
    }


@override_settings(CELERY_BEAT_SCHEDULE={"extra": {"task": "rx.tasks.prescriptions_expire_task", "schedule": 60}})
def test_the_settings_schedule_is_merged_last():
    sender = SimpleNamespace(conf=SimpleNamespace(beat_schedule={}))
    collect_beat_schedule(sender)
    assert sender.conf.beat_schedule["extra"]["schedule"] == 60
    assert "rx-prescriptions-expire" in sender.conf.beat_schedule


def test_the_finalized_app_schedules_the_pump_and_kit_tasks():
    app.finalize()
    assert {"pumps-schedules-refresh", "rx-prescriptions-expire", "shop-orders-expire"} <= set(app.conf.beat_schedule)
