"""Helpers for the API tests of core: a client that returns error responses, and a raw POST."""

from rest_framework.test import APIClient


def api(user):
    """An API client signed in as ``user`` that returns 5xx responses instead of raising."""
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def post_raw(client, path, body, content_type="application/json"):
    """POST ``body`` exactly as given (no encoding by the test client)."""
    return client.generic("POST", path, body, content_type=content_type)
