"""What every benchmark in bench/ needs: a throw-away database, a production-like gunicorn, a load client.

Only loopback is ever contacted. Every process started here is stopped (its own process group,
by id) and the database dropped, also on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


class Stop(Exception):
    """SIGTERM/SIGINT arrived: unwind and clean up."""


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


def install_signal_handlers() -> None:
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine_summary() -> str:
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split("\n")[0].split()[1])
        mem = f", {kb / 1024 / 1024:.0f} GiB RAM"
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{os.cpu_count()} cores ({cpu}){mem}, {system}"


def git_commit() -> str:
    if os.environ.get("BENCH_GIT_COMMIT"):  # a benchmark run from an exported tree names its commit
        return os.environ["BENCH_GIT_COMMIT"]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, timeout=10
        )
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=10,
        ).stdout.strip()
        return out.stdout.strip() + (" (with uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


# --- database -------------------------------------------------------------------------------


class BenchDatabase:
    """A PostgreSQL database created for the run and dropped after it."""

    def __init__(self, base_url: str, name: str):
        parts = urlsplit(base_url)
        if parts.scheme not in ("postgres", "postgresql", "pgsql"):
            raise SystemExit(f"The benchmark needs PostgreSQL; DATABASE_URL is {parts.scheme}://...")
        self.name = name
        self.url = urlunsplit(parts._replace(path=f"/{name}"))
        self._admin_url = urlunsplit(parts._replace(path="/postgres", scheme="postgresql"))

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self._admin_url, autocommit=True, connect_timeout=10) as conn:
            conn.execute(sql)

    def create(self) -> None:
        self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        self._admin(f'CREATE DATABASE "{self.name}"')

    def drop(self) -> None:
        with contextlib.suppress(psycopg.Error):
            self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')


# --- the site -------------------------------------------------------------------------------


def production_env(*, database_url: str, var_dir: Path, conn_max_age: int) -> dict:
    """PHARMACY_ENV=production (DEBUG off, manifest static files) with throw-away secrets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PHARMACY_"))}
    env.update(
        {
            "PHARMACY_ENV": "production",
            "SECRET_KEY": os.urandom(32).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": database_url,
            "REDIS_URL": os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/15",
            "STRIPE_SECRET_KEY": "sk_test_bench",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_bench",
            "STRIPE_WEBHOOK_SECRET": "whsec_bench",
            "STRIPE_API_BASE": "http://127.0.0.1:9",  # never called by the pages measured
            "PHARMACY_VAR_DIR": str(var_dir),
            "CONN_MAX_AGE": str(conn_max_age),
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def manage(env: dict, *args: str, timeout: int = 300) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


# Our apps ship an empty migrations package until the lead generates migrations. Django treats such
# an app as migrated (with nothing to apply), so `migrate --run-syncdb` alone creates no table for it.
# While any app is in that state, every app is mapped to no migration module (what the tests'
# --no-migrations does; a partial mapping fails on foreign keys to auth tables not yet created) and
# --run-syncdb creates all tables. Once every app has migration files this is plain `migrate`.
_MIGRATE = """
import django
from pathlib import Path
from django.apps import apps
from django.conf import settings
from django.core.management import call_command
django.setup()
empty = sorted(
    app.label for app in apps.get_app_configs()
    if (Path(app.path) / "migrations").is_dir() and not list((Path(app.path) / "migrations").glob("[0-9]*.py"))
)
if empty:
    settings.MIGRATION_MODULES = {app.label: None for app in apps.get_app_configs()}
call_command("migrate", run_syncdb=True, interactive=False, verbosity=0)
print("apps without migrations (all tables created directly): " + ", ".join(empty) if empty else "migrated")
"""


def migrate(env: dict) -> str:
    """``migrate --run-syncdb``, also for our apps whose migrations package is still empty."""
    env = {**env, "DJANGO_SETTINGS_MODULE": "pharmacy.settings"}
    result = subprocess.run([PYTHON, "-c", _MIGRATE], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"migrate failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


class Gunicorn:
    """gunicorn on 127.0.0.1 in its own process group; ``stop()`` ends that group only."""

    def __init__(self, env: dict, *, workers: int, log_path: Path):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.command = [
            PYTHON,
            "-m",
            "gunicorn",
            "pharmacy.wsgi:application",
            "--workers",
            str(workers),
            "--bind",
            f"127.0.0.1:{self.port}",
            "--worker-class",
            "sync",
            "--timeout",
            "30",
            "--graceful-timeout",
            "5",
        ]
        self._log = open(log_path, "w")  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(
            self.command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def wait_ready(self, path: str = "/healthz", timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}")
            with contextlib.suppress(OSError):
                with urllib.request.urlopen(self.base + path, timeout=2) as response:
                    if response.status == 200:
                        return
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not answer {path} within {timeout}s")

    def stop(self) -> None:
        stop_process_group(self.proc, timeout=15)
        self._log.close()


def stop_process_group(proc: subprocess.Popen, *, timeout: float) -> None:
    """Stop a server started in its own session: SIGTERM, then SIGKILL after ``timeout`` seconds."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


# --- the load -------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    path: str
    concurrency: int
    duration: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return len(self.latencies) + sum(self.errors.values())

    @property
    def rps(self) -> float:
        return len(self.latencies) / self.duration if self.duration else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))  # nearest rank
        return ordered[index] * 1000

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


async def _load(base: str, result: Result, *, seconds: float, max_requests: int, check) -> None:
    # Behind the production proxy TLS ends before gunicorn; the header says so (SECURE_PROXY_SSL_HEADER).
    headers = {"X-Forwarded-Proto": "https", "Accept-Encoding": "gzip"}
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=result.concurrency)
    deadline = time.monotonic() + seconds
    sent = 0

    async with aiohttp.ClientSession(base, headers=headers, timeout=timeout, connector=connector) as session:

        async def client():
            nonlocal sent
            while time.monotonic() < deadline and sent < max_requests:
                sent += 1
                started = time.perf_counter()
                try:
                    async with session.get(result.path, allow_redirects=False) as response:
                        body = await response.read()
                        elapsed = time.perf_counter() - started
                        if response.status != 200:
                            key = f"HTTP {response.status}"
                        elif not check(body):
                            key = "unexpected body"
                        else:
                            result.latencies.append(elapsed)
                            continue
                except (aiohttp.ClientError, TimeoutError) as exc:
                    key = type(exc).__name__
                result.errors[key] = result.errors.get(key, 0) + 1

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(result.concurrency)))
        result.duration = time.perf_counter() - started


def measure(
    base: str,
    *,
    name: str,
    path: str,
    concurrency: int,
    seconds: float,
    check,
    max_requests: int = 500_000,
    warmup: int = 20,
) -> Result:
    """Warm up, then run ``concurrency`` clients against ``path`` for ``seconds`` (bounded by count too)."""
    asyncio.run(_load(base, Result(name, path, 2), seconds=30, max_requests=warmup, check=check))
    result = Result(name, path, concurrency)
    asyncio.run(_load(base, result, seconds=seconds, max_requests=max_requests, check=check))
    return result


def markdown_table(results: list[Result]) -> str:
    lines = [
        "| endpoint | path | clients | requests | req/s | p50 ms | p99 ms | errors |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in results:
        errors = str(r.error_count) + (f" ({', '.join(f'{k}: {v}' for k, v in r.errors.items())})" if r.errors else "")
        lines.append(
            f"| {r.name} | `{r.path}` | {r.concurrency} | {r.requests} | {r.rps:.1f} | "
            f"{r.percentile(50):.1f} | {r.percentile(99):.1f} | {errors} |"
        )
    return "\n".join(lines)


def now_utc() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")


def temp_dir(prefix: str) -> tempfile.TemporaryDirectory:
    return tempfile.TemporaryDirectory(prefix=prefix)
