"""The localstripe launcher: loopback only, state in memory, webhooks registered from the command line."""

import http.server
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests
import stripe
from django.conf import settings

PICKLE = Path("/tmp/localstripe.pickle")


def _listening_addresses(port: int) -> set[str]:
    """Local addresses listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for row in Path(table).read_text().splitlines()[1:]:
            local, state = row.split()[1], row.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def test_server_listens_on_loopback_only_and_writes_no_state_file(localstripe_server):
    port = int(localstripe_server.url.rsplit(":", 1)[1])
    assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, and nothing on other interfaces
    before = PICKLE.stat().st_mtime if PICKLE.exists() else None
    localstripe_server.post("/v1/customers", {"email": "a@example.com"})
    after = PICKLE.stat().st_mtime if PICKLE.exists() else None
    assert after == before


def test_clearing_the_data_forgets_every_object(localstripe_server):
    customer = localstripe_server.post("/v1/customers", {"email": "b@example.com"})
    localstripe_server.clear()
    response = localstripe_server.http.get(f"{localstripe_server.url}/v1/customers/{customer['id']}", timeout=5)
    assert response.status_code == 404


def test_webhook_given_on_the_command_line_receives_signed_events():
    received = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((body, self.headers["Stripe-Signature"]))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    hook = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "shop.stripe_local",
            "--port",
            str(port),
            "--quiet",
            "--webhook-url",
            f"http://127.0.0.1:{hook.server_port}/hook",
            "--webhook-secret",
            "whsec_cli",
        ],
        cwd=settings.BASE_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                response = requests.post(
                    f"http://127.0.0.1:{port}/v1/payment_intents",
                    auth=("sk_test_x", ""),
                    data={"amount": 500, "currency": "usd", "payment_method": "pm_card_visa", "confirm": "true"},
                    timeout=2,
                )
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline, "launcher did not start"
                time.sleep(0.05)
        assert response.json()["status"] == "succeeded"
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
        hook.shutdown()
    body, signature = received[0]
    event = stripe.Webhook.construct_event(body, signature, "whsec_cli")
    assert event.type == "payment_intent.succeeded"
