"""Project-level guarantees: settings profiles and the health check (the layers: tests/test_architecture.py)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PROD_ENV = {
    "PHARMACY_ENV": "production",
    "SECRET_KEY": "x" * 64 + "-production-only-secret-key-for-the-check",
    "ALLOWED_HOSTS": "pharmacy.example",
    "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
    "REDIS_URL": "redis://127.0.0.1:6379/14",
    "STRIPE_SECRET_KEY": "sk_live_example",
    "STRIPE_PUBLISHABLE_KEY": "pk_live_example",
    "STRIPE_WEBHOOK_SECRET": "whsec_example",
}


def _manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if k not in PROD_ENV and not k.startswith("STRIPE_")}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_settings_pass_the_deploy_check_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize(
    "missing",
    ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"],
)
def test_production_refuses_to_start_without_a_required_setting(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_development_defaults_need_no_server():
    env = {"PHARMACY_ENV": "development", "PHARMACY_VAR_DIR": "/tmp/pharmacy-settings-check"}
    code = (
        "from django.conf import settings as s; "
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.STRIPE_API_BASE, s.DEBUG)"
    )
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    engine, broker, stripe_base, debug = result.stdout.split()[-4:]
    assert engine.endswith("sqlite3")
    assert broker == "filesystem://"
    assert stripe_base.startswith("http://127.0.0.1:")
    assert debug == "True"


@pytest.mark.django_db
def test_health_check_answers_on_any_host(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
