"""``manage.py runstack`` (core/management/commands/runstack.py): which processes `make run` starts.
Starting and stopping the real stack is tests/test_make_run.py."""

import sys

from django.conf import settings

from core.management.commands.runstack import Command


def test_the_stack_is_web_worker_and_beat_with_the_stripe_stand_in_first_when_local():
    local = Command.commands("127.0.0.1:8123", local_stripe=True)
    assert [name for name, _ in local] == ["stripe", "web", "worker", "beat"]
    assert [name for name, _ in Command.commands("127.0.0.1:8123", local_stripe=False)] == ["web", "worker", "beat"]
    argv = dict(local)
    assert all(cmd[0] == sys.executable for cmd in argv.values())
    assert "http://127.0.0.1:8123/api/v1/payments/stripe/webhook/" in argv["stripe"]
    assert argv["web"][-2:] == ["127.0.0.1:8123", "--noreload"]
    assert argv["beat"][-2:] == ["--schedule", settings.CELERY_BEAT_SCHEDULE_FILENAME]
    assert "-A" in argv["worker"] and "pharmacy" in argv["worker"]
