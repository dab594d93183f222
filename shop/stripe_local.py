"""Run localstripe, the fake Stripe server, on loopback with its state kept in memory.

    python -m shop.stripe_local --port 8420 [--webhook-url URL --webhook-secret whsec_...]

Used by ``manage.py runstack`` (``make run`` without Stripe keys) and by the test fixture in
``tests/shop/conftest.py``. localstripe's own CLI binds every interface and pickles its state
to ``/tmp/localstripe.pickle`` after each write; this launcher binds 127.0.0.1 only and keeps
the state in the process, so two runs (two test sessions, a dev server) never share or leak
data. ``DELETE /_config/data`` still clears it.

Patches, each kept to the minimum and applied before the server starts:
1. ``Store.dump_to_disk`` / ``Store.try_load_from_disk`` become no-ops (in-memory state).
2. ``DELETE /_config/webhooks/{id}`` is added, so a test that registered a webhook towards its
   own live server can take it back (localstripe only knows how to add webhooks).
Nothing else is patched: the shop never calls the endpoints localstripe gets wrong
(``confirm(id, payment_method=...)``, Checkout Sessions, WebhookEndpoints).
"""

import argparse
import logging
import socket

from aiohttp import web
from localstripe import resources, server, webhooks

WEBHOOK_NAME = "pharmacy"


def _patch_in_memory_store() -> None:
    # Patch 1: localstripe writes its whole store to a fixed file in /tmp after every POST and
    # every new object, and reads it back at start. Keep the state in memory instead.
    resources.Store.dump_to_disk = lambda self: None
    resources.Store.try_load_from_disk = lambda self: None


async def _unregister_webhook(request: web.Request) -> web.Response:
    # Patch 2: the counterpart of localstripe's POST /_config/webhooks/{id}.
    webhooks._webhooks.pop(request.match_info["id"], None)
    return web.Response()


def build_app() -> web.Application:
    """Return localstripe's aiohttp application with the patches above applied."""
    _patch_in_memory_store()
    app = server.app
    if not any(getattr(r, "handler", None) is _unregister_webhook for r in app.router.routes()):
        app.router.add_delete("/_config/webhooks/{id}", _unregister_webhook)
    return app


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8420)
    parser.add_argument("--host", default="127.0.0.1", help="Interface to bind (loopback by default).")
    parser.add_argument("--webhook-url", default="", help="Where localstripe posts its events.")
    parser.add_argument("--webhook-secret", default="", help="The secret the events are signed with.")
    parser.add_argument("--quiet", action="store_true", help="Do not log every request.")
    args = parser.parse_args(argv)

    app = build_app()
    if args.webhook_url:
        if not args.webhook_secret:
            parser.error("--webhook-url needs --webhook-secret")
        webhooks.register_webhook(WEBHOOK_NAME, args.webhook_url, args.webhook_secret, None)

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))

    access_log = None
    if not args.quiet:
        access_log = logging.getLogger("aiohttp.access")
        access_log.setLevel(logging.INFO)
        access_log.addHandler(logging.StreamHandler())
    # localstripe's webhook sender logs its deliveries on the same logger.
    logging.getLogger("aiohttp.access").propagate = False
    web.run_app(app, sock=sock, access_log=access_log, print=None if args.quiet else print)


if __name__ == "__main__":
    main()
