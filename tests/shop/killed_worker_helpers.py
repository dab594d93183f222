"""The killed-worker test's Celery worker: the project's settings plus one fulfilment hook.

The worker runs with ``DJANGO_SETTINGS_MODULE=tests.shop.killed_worker_helpers``, so
``SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS`` (empty in the project) names ``pause_after_allocation``:
right after fulfilment has allocated an order's stock, inside its transaction, the hook touches
``<file>.reached`` and waits while ``<file>`` exists (at most 60 s), ``<file>`` being the path in
the environment variable ``KILLED_WORKER_PAUSE_FILE``. The test kills the worker while it waits.
"""

import os
import time
from pathlib import Path

from pharmacy.settings import *  # noqa: F403 (the project's settings, one added below)

PAUSE_FILE_ENV = "KILLED_WORKER_PAUSE_FILE"
SHOP_FULFILMENT_AFTER_ALLOCATION_HOOKS = ["tests.shop.killed_worker_helpers.pause_after_allocation"]


def pause_after_allocation(*, order, picks) -> None:
    """Hold the fulfilment of ``order`` while the pause file exists (see the module docstring)."""
    path = os.environ.get(PAUSE_FILE_ENV)
    if not path or not os.path.exists(path):
        return
    Path(f"{path}.reached").touch()
    deadline = time.monotonic() + 60
    while os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.05)
