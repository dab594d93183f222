"""The migrations that moved pumps out of rx and refill kits out of shop keep every row.

A production database already holds pumps, kit orders and permissions when these migrations run,
so the test migrates a PostgreSQL database of its own to the state before the move, writes rows
with the historical models, migrates to the newest state and reads them back with today's models.
"""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import psycopg
import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[3]
SCRIPT = Path(__file__).with_name("migrate_with_data.py")


@pytest.fixture
def empty_database():
    """A new, empty PostgreSQL database on the test server; dropped afterwards."""
    db = settings.DATABASES["default"]
    name = f"migrations_{uuid.uuid4().hex[:12]}"
    params = {"host": db["HOST"] or "127.0.0.1", "port": db["PORT"] or 5432, "user": db["USER"] or "postgres",
              "password": db["PASSWORD"] or None, "dbname": "postgres", "autocommit": True}
    with psycopg.connect(**params) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = params["port"]
    auth = params["user"] + (f":{params['password']}" if params["password"] else "")
    try:
        yield f"postgres://{auth}@{params['host']}:{port}/{name}"
    finally:
        with psycopg.connect(**params) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_moving_the_models_keeps_rows_content_types_and_permissions(empty_database):
    env = {**os.environ, "DATABASE_URL": empty_database, "DJANGO_SETTINGS_MODULE": "pharmacy.settings",
           "PYTHONPATH": str(ROOT)}
    result = subprocess.run([sys.executable, str(SCRIPT)], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr[-4000:]
    rows = json.loads(result.stdout.strip().splitlines()[-1])
    assert rows == {
        "pump_serial": "SN1",
        "pump_programs": 1,
        "pump_current_refill": True,
        "standing_orders": 1,
        "kit_order_order": "PH-ABCDEFGH",
        "alerts": 1,
        "kit_order_scheduled": True,  # fulfilled on its ship-by day, not as soon as it is ready
        "other_order_scheduled": False,
        "group_permissions": ["pumps.view_pump"],  # the content type moved; the grant followed it
    }
