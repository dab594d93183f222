"""The `make run` path on a fresh machine: migrations are complete, migrate works on an empty
SQLite database, the seed loads twice without change, and runstack serves and stops cleanly."""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dev_env(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "PHARMACY_ENV"} and not k.startswith("STRIPE_")
    }
    env.update(
        PHARMACY_ENV="development",
        DATABASE_URL=f"sqlite:///{tmp_path / 'dev.sqlite3'}",
        PHARMACY_VAR_DIR=str(tmp_path / "var"),
        LOCALSTRIPE_PORT=str(_free_port()),
    )
    return env


def _manage(env, *args, timeout=180):
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def test_models_and_migrations_agree(tmp_path):
    result = _manage(_dev_env(tmp_path), "makemigrations", "--check", "--dry-run")
    assert result.returncode == 0, result.stdout + result.stderr


def test_fresh_database_migrates_loads_the_seed_twice_and_serves(tmp_path):
    env = _dev_env(tmp_path)
    migrate = _manage(env, "migrate", "--noinput")
    assert migrate.returncode == 0, migrate.stderr
    first = _manage(env, "load_seed_catalogue")
    assert first.returncode == 0, first.stderr
    assert "Could not enqueue" not in first.stderr, first.stderr
    second = _manage(env, "load_seed_catalogue")
    assert second.returncode == 0, second.stderr
    assert "nothing changed" in second.stdout
    kits = _manage(env, "load_seed_catalogue", "pumps/seed/refill_kits.yaml")
    assert kits.returncode == 0, kits.stderr

    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "manage.py", "runstack", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                    body = response.read().decode()
                    break
            except OSError:
                time.sleep(0.5)
        assert body is not None, "the web server did not answer within 60 s"
        assert "Baclofen 10 mg tablet" in body
        with urllib.request.urlopen(f"http://127.0.0.1:{env['LOCALSTRIPE_PORT']}/js.stripe.com/v3/", timeout=5) as js:
            assert js.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        output, _ = proc.communicate(timeout=30)
    assert proc.returncode is not None
    assert "Pharmacy is running" in output
