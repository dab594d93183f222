"""Shared fixtures: a real Celery worker on the real Redis broker, and small helpers.

App fixtures live in ``tests/<app>/fixtures.py``, registered here for the whole suite (the pumps
tests use rx's clinical catalogue and the shop's orders).
"""

import os
import time

import pytest

from pharmacy.celery import app as celery_app

pytest_plugins = ["tests.rx.fixtures", "tests.shop.fixtures"]


def pytest_configure(config):
    if os.environ.get("PHARMACY_ENV") != "test":
        raise pytest.UsageError(
            "Run the suite with `make test` (it sets PHARMACY_ENV=test, DATABASE_URL and REDIS_URL)."
        )


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hasher():
    """Hash test passwords with MD5: the production hasher costs about a second per user here."""
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session")
def _purged_broker():
    """Drop messages left in this run's Redis database by an earlier, interrupted run."""
    with celery_app.connection_for_write() as conn:
        conn.default_channel.client.flushdb()
    return True


@pytest.fixture
def celery_worker(transactional_db, _purged_broker):
    """Run a real Celery worker (solo pool, in a thread) against the real Redis broker.

    Tests that use it need committed data, hence ``transactional_db``.
    """
    from celery.contrib.testing.worker import start_worker

    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=30) as worker:
        yield worker


def wait_for(predicate, *, timeout=15.0, interval=0.05, message="condition"):
    """Poll ``predicate`` until it returns a truthy value; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"Timed out after {timeout}s waiting for {message}")
