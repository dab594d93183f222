"""Enqueue a Celery task once the current transaction commits (never inside it).

A task enqueued inside an open transaction can run before the commit and find nothing (Saleor
#5455); a broker outage must not fail the change that caused the work. So the send waits for the
commit and a failed send is logged: the beat sweeps of each app pick the work up later.
"""

import logging
from typing import Any

from django.db import transaction

log = logging.getLogger(__name__)


def enqueue_on_commit(task: Any, *args: Any, **kwargs: Any) -> None:
    """Send ``task.delay(*args, **kwargs)`` after the commit; log (do not raise) if the broker is down."""

    def send() -> None:
        try:
            task.delay(*args, **kwargs)
        except Exception:  # the broker being down must not fail the change; the sweeps catch up
            log.exception("Could not enqueue %s%s", getattr(task, "name", task), args)

    transaction.on_commit(send)
