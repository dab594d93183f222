"""When a server the app depends on is down, answer 503 with a reason, never a 500.

- **Redis as the cache** (``RedisCache``): Django's Redis cache raises on every call while Redis
  is down. The cache only ever holds what can be recomputed (throttle counts), so here a read
  misses and a write is skipped, each logged; the pages and the API go on serving.
- **Redis as the broker** (``broker_check``): checkout and payment refuse to start with a 503
  ``service_unavailable`` and a reason while the task queue cannot be reached (a paid order is
  handed to the gate and fulfilment through it).
- **PostgreSQL refusing connections** (``DatabaseOutageMiddleware``, ``server_error``): an
  ``OperationalError``/``InterfaceError`` becomes a 503 with ``Retry-After``, a JSON body under
  /api/ and a plain page elsewhere. Stripe retries a webhook answered 503, so no paid order is lost.
"""

import logging
import sys
from typing import Any

from celery import current_app
from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from kombu.exceptions import OperationalError as BrokerError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.errors import ServiceUnavailable

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError)
DATABASE_DOWN = (OperationalError, InterfaceError)
RETRY_AFTER_SECONDS = 30
DATABASE_DOWN_MESSAGE = "The database is not answering (it may be restarting); nothing was changed. Try again shortly."
BROKER_DOWN_MESSAGE = (
    "Checkout is paused: the order queue (Redis) is not answering, so a paid order could not be handed on "
    "to the pharmacy. Nothing was charged; try again in a few minutes."
)


class RedisCache(DjangoRedisCache):
    """Django's Redis cache; while Redis is down a read misses and a write is skipped (logged)."""

    def _down(self, operation: str, exc: Exception) -> None:
        log.warning("Cache %s skipped, Redis is not answering: %s", operation, exc)

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except REDIS_DOWN as exc:
            self._down("get", exc)
            return default

    def get_many(self, keys: Any, version: int | None = None) -> dict[Any, Any]:
        try:
            return super().get_many(keys, version)
        except REDIS_DOWN as exc:
            self._down("get_many", exc)
            return {}

    def has_key(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().has_key(key, version)
        except REDIS_DOWN as exc:
            self._down("has_key", exc)
            return False

    def set(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except REDIS_DOWN as exc:
            self._down("set", exc)

    def add(self, key: Any, value: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().add(key, value, timeout, version)
        except REDIS_DOWN as exc:
            self._down("add", exc)
            return False

    def set_many(
        self, data: dict[Any, Any], timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[Any]:
        try:
            return super().set_many(data, timeout, version)
        except REDIS_DOWN as exc:
            self._down("set_many", exc)
            return list(data)

    def delete(self, key: Any, version: int | None = None) -> bool:
        try:
            return super().delete(key, version)
        except REDIS_DOWN as exc:
            self._down("delete", exc)
            return False

    def delete_many(self, keys: Any, version: int | None = None) -> None:
        try:
            super().delete_many(keys, version)
        except REDIS_DOWN as exc:
            self._down("delete_many", exc)

    def touch(self, key: Any, timeout: float | None = DEFAULT_TIMEOUT, version: int | None = None) -> bool:
        try:
            return super().touch(key, timeout, version)
        except REDIS_DOWN as exc:
            self._down("touch", exc)
            return False


def broker_check() -> None:
    """Raise ``ServiceUnavailable`` when the Celery broker (``CELERY_BROKER_URL``) cannot be reached."""
    try:
        with current_app.connection_for_write(settings.CELERY_BROKER_URL) as connection:
            connection.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=2)
    except (BrokerError, OSError, *REDIS_DOWN) as exc:
        log.warning("Broker unreachable, checkout refused: %s", exc)
        raise ServiceUnavailable(BROKER_DOWN_MESSAGE, code="service_unavailable") from exc


def database_down_response(request: HttpRequest) -> HttpResponse:
    """The 503: JSON under /api/, a plain page (no template, no database) elsewhere."""
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if request.path.startswith("/api/"):
        body = {"code": "service_unavailable", "detail": DATABASE_DOWN_MESSAGE}
        return JsonResponse(body, status=503, headers=headers)
    page = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Back shortly</title></head>"
        f"<body><h1>Back shortly</h1><p>{DATABASE_DOWN_MESSAGE}</p></body></html>"
    )
    return HttpResponse(page, status=503, headers=headers)


class DatabaseOutageMiddleware:
    """A view that meets a database that refuses connections answers 503 (``database_down_response``)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response: HttpResponse = self.get_response(request)
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, DATABASE_DOWN):
            log.warning("Database unavailable for %s %s: %s", request.method, request.path, exception)
            return database_down_response(request)
        return None


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: a database outage met outside a view (a middleware) is still a 503."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_down_response(request)
    return defaults.server_error(request)
