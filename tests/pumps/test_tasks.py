"""The pumps Celery tasks (pumps.tasks): the hourly schedule refresh, run by a real worker on Redis, and the
beat entries."""

from datetime import timedelta

import pytest
from django.utils import timezone

from pumps import tasks
from pumps.models import Pump
from pumps.signals import pump_schedule_changed
from pumps.tasks import BEAT_SCHEDULE, pump_schedules_refresh_task
from tests.conftest import wait_for
from tests.pumps.fixtures import clinic_with_staff, make_pump


@pytest.mark.celery
def test_refresh_task_turns_a_pump_whose_kit_can_no_longer_arrive_critical(celery_worker):
    clinic, _ = clinic_with_staff()
    fill = timezone.now() - timedelta(days=70)  # alarm in two days; computed as of the fill, it looked fine
    due = make_pump(clinic, fill_at=fill, now=fill)
    later = make_pump(clinic, fill_at=timezone.now(), now=timezone.now())
    assert not due.has_critical_warning
    received = []
    pump_schedule_changed.connect(
        lambda sender, pump_ids, **kw: received.append(pump_ids), weak=False, dispatch_uid="test-refresh"
    )
    try:
        pump_schedules_refresh_task.delay()
        wait_for(lambda: Pump.objects.get(pk=due.pk).has_critical_warning, message="refresh task")
        codes = [w["code"] for w in Pump.objects.get(pk=due.pk).warnings]
        assert "kit_cannot_arrive" in codes
        assert Pump.objects.get(pk=later.pk).schedule_computed_at == later.schedule_computed_at  # not due: untouched
        wait_for(lambda: received, message="signal")
        assert received == [[due.pk]]
    finally:
        pump_schedule_changed.disconnect(dispatch_uid="test-refresh")


def test_refresh_runs_hourly_and_expires():
    entry = BEAT_SCHEDULE["pumps-schedules-refresh"]
    assert entry["task"] == "pumps.tasks.pump_schedules_refresh_task"
    assert entry["options"]["expires"] < 3600


def test_kit_beat_entries_expire_and_name_existing_tasks():
    for name in ("pumps-kits-scan", "pumps-kits-dispatch", "pumps-kit-alerts-escalate"):
        entry = tasks.BEAT_SCHEDULE[name]
        assert 0 < entry["options"]["expires"] <= entry["schedule"]
        assert hasattr(tasks, entry["task"].rsplit(".", 1)[1])
