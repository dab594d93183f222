"""Project-level guarantees: settings profiles, the dependency rule, the health check."""

import ast
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
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def test_production_settings_pass_the_deploy_check_with_no_warnings():
    result = _manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL",
                                     "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_production_refuses_to_start_without_a_required_setting(missing):
    env = {k: v for k, v in PROD_ENV.items() if k != missing}
    result = _manage("check", env=env)
    assert result.returncode != 0
    assert missing in result.stderr


def test_development_defaults_need_no_server():
    env = {"PHARMACY_ENV": "development", "PHARMACY_VAR_DIR": "/tmp/pharmacy-settings-check"}
    code = ("from django.conf import settings as s; "
            "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.STRIPE_API_BASE, s.DEBUG)")
    result = _manage("shell", "-c", code, env=env)
    assert result.returncode == 0, result.stderr
    engine, broker, stripe_base, debug = result.stdout.split()[-4:]
    assert engine.endswith("sqlite3")
    assert broker == "filesystem://"
    assert stripe_base.startswith("http://127.0.0.1:")
    assert debug == "True"


LAYERS = {"catalog": set(), "rx": {"catalog"}, "shop": {"catalog", "rx"}}


def _imported_apps(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    # String references in apps' models (ForeignKey("shop.Order")) count too.
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            head = node.value.split(".")[0]
            if head in LAYERS and node.value.count(".") == 1 and node.value.split(".")[1][:1].isupper():
                names.add(head)
    return names & set(LAYERS)


@pytest.mark.parametrize("app", sorted(LAYERS))
def test_a_lower_app_never_imports_a_higher_one(app):
    offenders = []
    for path in sorted((ROOT / app).rglob("*.py")):
        bad = _imported_apps(path) - LAYERS[app] - {app}
        if bad:
            offenders.append(f"{path.relative_to(ROOT)} imports {sorted(bad)}")
    assert not offenders, "\n".join(offenders)


@pytest.mark.django_db
def test_health_check_answers_on_any_host(client):
    response = client.get("/healthz", HTTP_HOST="10.0.0.5:8000")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
