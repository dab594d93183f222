"""Start the whole development stack in the foreground: web, Celery worker, beat (and Stripe stand-in).

Used by ``make run``. Ctrl-C (or SIGTERM) stops every process it started.
"""

import os
import signal
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Run the web server, a Celery worker and beat (and localstripe when no Stripe keys are set)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--addr", default=os.environ.get("RUN_ADDR", "127.0.0.1:8000"))

    def handle(self, *args: Any, addr: str, **options: Any) -> None:
        settings.VAR_DIR.mkdir(parents=True, exist_ok=True)
        if settings.CELERY_BROKER_URL.startswith("filesystem://"):
            for key, folder in settings.CELERY_BROKER_TRANSPORT_OPTIONS.items():
                if "folder" in key:
                    os.makedirs(folder, exist_ok=True)
        local_stripe = settings.STRIPE_API_BASE.startswith(("http://127.0.0.1", "http://localhost"))
        procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        for name, cmd in self.commands(addr, local_stripe=local_stripe):
            procs.append((name, subprocess.Popen(cmd, cwd=settings.BASE_DIR, start_new_session=True)))
            if name == "stripe":
                time.sleep(1.0)
        self.stdout.write(
            self.style.SUCCESS(
                f"\nPharmacy is running: http://{addr}/  (admin: http://{addr}/admin/, API docs: http://{addr}/api/docs/)"
            )
        )
        if local_stripe:
            self.stdout.write("Payments use the local Stripe stand-in (test mode): pay with card 4242 4242 4242 4242.")
        self.stdout.write("Press Ctrl-C to stop the web server, the worker and beat.\n")
        self.supervise(procs)

    @staticmethod
    def commands(addr: str, *, local_stripe: bool) -> list[tuple[str, list[str]]]:
        """The processes of the stack, in start order: (name, argv)."""
        python = sys.executable
        commands = []
        if local_stripe:
            commands.append(
                (
                    "stripe",
                    [
                        python,
                        "-m",
                        "shop.stripe_local",
                        "--port",
                        str(settings.LOCALSTRIPE_PORT),
                        "--webhook-url",
                        f"http://{addr}/api/v1/payments/stripe/webhook/",
                        "--webhook-secret",
                        settings.STRIPE_WEBHOOK_SECRET,
                    ],
                )
            )
        commands += [
            ("web", [python, "manage.py", "runserver", addr, "--noreload"]),
            (
                "worker",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "pharmacy",
                    "worker",
                    "--loglevel",
                    "INFO",
                    "--pool",
                    "solo" if settings.CELERY_BROKER_URL.startswith("filesystem") else "prefork",
                    "--concurrency",
                    "2",
                ],
            ),
            (
                "beat",
                [
                    python,
                    "-m",
                    "celery",
                    "-A",
                    "pharmacy",
                    "beat",
                    "--loglevel",
                    "INFO",
                    "--schedule",
                    settings.CELERY_BEAT_SCHEDULE_FILENAME,
                ],
            ),
        ]
        return commands

    def supervise(self, procs: list[tuple[str, subprocess.Popen[bytes]]]) -> None:
        """Wait until Ctrl-C, SIGTERM or one process exits; then stop them all (SIGKILL after 10 s)."""
        stopping = False

        def stop(*_: object) -> None:
            nonlocal stopping
            if stopping:
                return
            stopping = True
            for _, proc in procs:  # type: ignore[assignment]  # ``_`` also names the handler's unused arguments
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGTERM)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping:
                for name, proc in procs:
                    if proc.poll() is not None:
                        self.stderr.write(f"{name} exited with {proc.returncode}; stopping the rest.")
                        stop()
                        break
                time.sleep(0.5)
        finally:
            stop()
            deadline = time.monotonic() + 10
            for _, proc in procs:
                try:
                    proc.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
