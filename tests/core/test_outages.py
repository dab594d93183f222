"""core.outages: Redis or PostgreSQL down answers 503 with a reason (or serves on), never a 500.

Redis down: the cache points at a closed port (127.0.0.1:1) with override_settings. PostgreSQL
restarting: the test seam patches the connection's ``ensure_connection`` to raise the
``OperationalError`` psycopg raises for a refused connection (no production code knows of it).
"""

from unittest import mock

import pytest
from django.core.cache import caches
from django.db import InterfaceError, OperationalError, connection
from django.test import Client, override_settings
from django.urls import reverse

from core.outages import DATABASE_DOWN_MESSAGE, RedisCache

pytestmark = pytest.mark.django_db
DEAD_REDIS = "redis://127.0.0.1:1/0"
DEAD_CACHE = {
    "default": {"BACKEND": "core.outages.RedisCache", "LOCATION": DEAD_REDIS, "OPTIONS": {"socket_connect_timeout": 1}}
}
REFUSED = OperationalError('connection to server at "127.0.0.1", port 5432 failed: Connection refused')


@override_settings(CACHES=DEAD_CACHE)
def test_with_redis_down_the_cache_misses_and_skips_writes():
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    assert cache.get("k") is None and cache.get("k", "dflt") == "dflt"
    assert cache.get_many(["a", "b"]) == {} and cache.has_key("k") is False
    cache.set("k", 1)
    assert cache.add("k", 1) is False and cache.delete("k") is False
    assert cache.set_many({"a": 1}) == ["a"]
    cache.delete_many(["a"])
    assert cache.touch("k") is False
    assert cache.get_or_set("k", 5) == 5


@override_settings(CACHES=DEAD_CACHE)
def test_with_redis_down_the_catalogue_and_product_pages_and_the_throttled_api_still_serve(make_product):
    product = make_product()
    client = Client()
    assert client.get(reverse("catalog:product-list")).status_code == 200
    assert client.get(reverse("catalog:product-detail", args=[product.slug])).status_code == 200
    # The auth API is throttled: the throttle reads and writes its counts in the cache.
    response = client.post(
        "/api/v1/auth/token/", {"username": "nobody", "password": "x"}, content_type="application/json"
    )
    assert response.status_code == 400


@pytest.mark.parametrize("error", [REFUSED, InterfaceError("connection already closed")])
def test_with_the_database_refusing_connections_a_page_is_a_plain_503(error, make_product):
    product = make_product()
    client = Client(raise_request_exception=False)
    with mock.patch.object(connection, "ensure_connection", side_effect=error):
        response = client.get(reverse("catalog:product-detail", args=[product.slug]))
    assert response.status_code == 503
    assert response["Retry-After"] == "30" and response["Content-Type"].startswith("text/html")
    assert DATABASE_DOWN_MESSAGE in response.content.decode()


def test_with_the_database_refusing_connections_the_api_is_a_json_503():
    client = Client(raise_request_exception=False)
    with mock.patch.object(connection, "ensure_connection", side_effect=REFUSED):
        response = client.get("/api/v1/products/")
    assert response.status_code == 503
    assert response.json() == {"code": "service_unavailable", "detail": DATABASE_DOWN_MESSAGE}


def test_a_database_outage_met_in_a_middleware_is_a_503_too():
    """The health check reads the database before any view: handler500 turns the error into a 503."""
    client = Client(raise_request_exception=False)
    with mock.patch.object(connection, "ensure_connection", side_effect=REFUSED):
        response = client.get("/healthz")
    assert response.status_code == 503


def test_any_other_error_is_still_a_500():
    client = Client(raise_request_exception=False)
    with mock.patch.object(connection, "ensure_connection", side_effect=RuntimeError("boom")):
        response = client.get(reverse("catalog:product-list"))
    assert response.status_code == 500
