"""rx's Celery entry points (rx/tasks.py): the daily expiry sweep."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rx.models import Prescription
from rx.tasks import BEAT_SCHEDULE, prescriptions_expire_task
from tests.rx.factories import PrescriberFactory

from .prescription_helpers import approve, make_rx


@pytest.mark.django_db
def test_expire_task_expires_what_is_past_its_date_and_is_idempotent(clinical, cast):
    old = approve(
        make_rx(
            cast.patient_a,
            clinical.tablet,
            written_date=timezone.localdate() - timedelta(days=400),
            prescriber=PrescriberFactory(),
        ),
        cast.pharmacist,
        XP="Fill history reviewed.",
    )
    assert prescriptions_expire_task() == [old.pk]
    assert prescriptions_expire_task() == []
    assert Prescription.objects.get(pk=old.pk).status == Prescription.Status.EXPIRED


def test_expire_task_runs_daily_and_drops_stale_runs():
    entry = BEAT_SCHEDULE["rx-prescriptions-expire"]
    assert entry["task"] == "rx.tasks.prescriptions_expire_task" == prescriptions_expire_task.name
    assert entry["options"]["expires"] <= 24 * 3600
