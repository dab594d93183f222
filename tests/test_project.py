"""Project-level guarantees: settings profiles and the health check (the layers: tests/test_architecture.py)."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

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


def _dockerfile_instructions():
    """(instruction, argument) pairs of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [tuple(line.split(None, 1)) for line in lines]


def test_the_image_creates_the_private_media_directory_compose_mounts_and_its_user_owns_it():
    """Docker cannot run here: read the two files. A named volume mounted where the image has no
    directory is created by root, so the pharmacy user could not write the uploaded prescriptions."""
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    app = compose["x-app"]
    private_root = app["environment"]["PRIVATE_MEDIA_ROOT"]
    assert f"private-media:{private_root}" in app["volumes"]
    for name in ("web", "worker", "migrate"):  # every service that writes or reads uploads
        service = compose["services"][name]
        assert service.get("environment", app["environment"])["PRIVATE_MEDIA_ROOT"] == private_root
        assert f"private-media:{private_root}" in service.get("volumes", app["volumes"])
    instructions = _dockerfile_instructions()
    user = [arg for op, arg in instructions if op == "USER"][-1]
    runs = " && ".join(arg for op, arg in instructions if op == "RUN")
    assert re.search(rf"mkdir -p [^&]*{re.escape(private_root)}(\s|$)", runs), runs
    owned = re.findall(r"chown (-R )?(\S+) ([^&]+)", runs)
    assert any(
        owner.split(":")[0] == user
        and any(private_root.startswith(path) for path in paths.split())
        and (recursive or private_root in paths.split())
        for recursive, owner, paths in owned
    ), owned
