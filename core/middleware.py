from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.html import escape

from core.inputs import NUL, NUL_MESSAGE, nul_field

FORM_CONTENT_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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


def _nul_input(request: HttpRequest) -> str | None:
    """The name of the first request input holding a NUL: the path, a query or a form field."""
    if NUL in request.path:
        return "path"
    found = nul_field(request.GET.lists())
    if found is None and request.method == "POST" and request.content_type in FORM_CONTENT_TYPES:
        found = nul_field(request.POST.lists())  # Django's multipart parser drops NULs from upload names
    return found


class RequestInputGuardMiddleware:
    """Refuse a request whose path, query string or form fields hold a NUL character.

    A 400 naming the field, before any view: PostgreSQL text cannot hold ``\\x00`` (psycopg raises
    ``ValueError``, a 500) and no field has a use for it. Under ``/api/`` the body is the API's error
    shape (``{"code": "invalid", "detail": "<field>: ...", "errors": {<field>: [...]}}``), elsewhere a
    short page. JSON bodies are checked by ``core.api.parsers.JSONParser`` (the body is parsed there).
    Only form posts are read here, so views that read the raw body (signed webhooks) keep it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        field = _nul_input(request)
        if field is None:
            return self.get_response(request)
        detail = f"{field}: {NUL_MESSAGE}"
        if request.path.startswith("/api/"):
            return JsonResponse({"code": "invalid", "detail": detail, "errors": {field: [NUL_MESSAGE]}}, status=400)
        return HttpResponse(
            f"<!doctype html><title>Bad request</title><h1>Bad request</h1><p>{escape(detail)}</p>", status=400
        )
