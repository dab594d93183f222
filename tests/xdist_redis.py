"""pytest plugin: one Redis database per pytest-xdist worker (loaded with ``-p tests.xdist_redis``).

pytest-django already gives each xdist worker its own PostgreSQL test database
(``test_<name>_gw0``, ``test_<name>_gw1``, ...). Redis needs the same, or two workers would
flush each other's Celery queue (``_purged_broker``, the killed-worker test) and a worker's
``celery_worker`` would run the other worker's tasks against the wrong database.

``pharmacy/settings.py`` reads ``REDIS_URL`` (and ``CELERY_BROKER_URL``, ``CACHE_URL``) when it is
imported, and pytest-django imports it in its ``pytest_load_initial_conftests`` hook, before any
``conftest.py`` is read. xdist puts ``PYTEST_XDIST_WORKER`` (``gw0``, ``gw1``, ...) in a worker's
environment before the worker parses its options, and ``-p`` plugins are imported while the
options are parsed, so this module rewrites the variables at import time: worker ``gwN`` uses
database *base + N*, where *base* is the run's ``REDIS_URL`` database (``make test``:
``TEST_REDIS_URL``, default 14, so two workers use 14 and 15). The variables are changed in
``os.environ``, so subprocesses a test starts (a Celery worker, ``manage.py``) inherit them too.
Without xdist (or on the controller process) nothing changes.
"""

import os
from urllib.parse import urlsplit, urlunsplit

REDIS_VARIABLES = ("REDIS_URL", "CELERY_BROKER_URL", "CACHE_URL")
# Set once shifted, so that a process started with the shifted environment does not shift again.
APPLIED = "PHARMACY_TEST_REDIS_PER_WORKER"


def worker_index(worker: str | None) -> int | None:
    """``gw3`` -> 3; None outside an xdist worker."""
    if not worker or not worker.startswith("gw") or not worker[2:].isdigit():
        return None
    return int(worker[2:])


def shifted_redis_url(url: str, offset: int) -> str:
    """``redis://host:6379/14`` shifted by 1 -> ``redis://host:6379/15``; other URLs unchanged."""
    parts = urlsplit(url)
    if parts.scheme not in {"redis", "rediss"}:
        return url
    base = int(parts.path.strip("/") or 0)
    return urlunsplit(parts._replace(path=f"/{base + offset}"))


def _apply(environ=os.environ) -> None:
    index = worker_index(environ.get("PYTEST_XDIST_WORKER"))
    if not index or environ.get(APPLIED):
        return
    for name in REDIS_VARIABLES:
        if environ.get(name):
            environ[name] = shifted_redis_url(environ[name], index)
    environ[APPLIED] = "1"


_apply()
