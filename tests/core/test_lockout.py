"""core.lockout.client_ip: the address the sign-in lockout counts (the API throttle's rule)."""

import pytest
from django.test import RequestFactory

from core.lockout import client_ip


@pytest.mark.parametrize(
    ("num_proxies", "forwarded", "expected"),
    [
        (0, "6.6.6.6", "10.0.0.1"),  # no trusted proxy: a client cannot choose its address
        (1, "", "10.0.0.1"),
        (1, "6.6.6.6, 203.0.113.7", "203.0.113.7"),  # the one our proxy saw, not what the client wrote
        (2, "203.0.113.7, 198.51.100.2", "203.0.113.7"),
        (3, "203.0.113.7", "203.0.113.7"),
    ],
)
def test_client_ip(settings, num_proxies, forwarded, expected):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": num_proxies}
    request = RequestFactory().post("/accounts/login/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected
