from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponseBase, JsonResponse


class HealthCheckMiddleware:
    """Answer ``/healthz`` before host validation and the HTTPS redirect.

    Container health checks call it on 127.0.0.1 over plain HTTP, which ALLOWED_HOSTS and
    SECURE_SSL_REDIRECT would otherwise refuse. It answers 200 only when the database answers.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path == "/healthz":
            with connection.cursor() as cursor:
                cursor.execute("SELECT 1")
            return JsonResponse({"status": "ok"})
        return self.get_response(request)
