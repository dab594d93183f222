"""Sign-in lockout (django-axes, configured in settings): the client address it counts, and the
check the API token endpoint makes so a locked-out client gets a 429 with the reason.

``client_ip`` is ``AXES_CLIENT_IP_CALLABLE``: the same address the API throttle uses (DRF's
rule), so one client behind ``NUM_PROXIES`` trusted proxies is one address, and a client cannot
pick its own by sending an ``X-Forwarded-For`` header when no proxy is trusted.
"""

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of the client: REMOTE_ADDR, or the NUM_PROXIES-th address from the right of X-Forwarded-For."""
    remote_addr = str(request.META.get("REMOTE_ADDR", ""))
    num_proxies = settings.REST_FRAMEWORK["NUM_PROXIES"]
    forwarded = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    if not num_proxies or not forwarded:
        return remote_addr
    addresses = [address.strip() for address in forwarded.split(",") if address.strip()]
    if not addresses:
        return remote_addr
    return str(addresses[-min(int(num_proxies), len(addresses))])


def signin_locked(*, request: Any, username: object) -> bool:
    """Whether axes refuses sign-ins for this username or from this request's address now.

    ``request`` is a Django or a DRF request; a ``username`` that is not a string counts as none.
    """
    if not settings.AXES_ENABLED:
        return False
    credentials = {"username": username if isinstance(username, str) else None}
    return not AxesProxyHandler.is_allowed(request, credentials)
