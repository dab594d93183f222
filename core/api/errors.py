"""Project-wide API glue: the one exception handler that gives every error the same shape.

Every error body is ``{"code": str, "detail": str, ...}``; validation errors add
``"errors": {field: [messages]}`` and name the first failing field in ``detail``.
"""

from collections.abc import Iterator
from typing import Any, cast

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.errors import DomainError


def _flatten(detail: object, prefix: str = "") -> Iterator[tuple[str, str]]:
    """Yield (field path, message) pairs from DRF's nested error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            yield from _flatten(value, path)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            sub = f"{prefix}[{index}]" if isinstance(value, (dict, list)) else prefix
            yield from _flatten(value, sub)
    else:
        yield prefix, str(detail)


def validation_body(detail: object) -> dict[str, Any]:
    pairs = list(_flatten(detail))
    if pairs:
        field, message = pairs[0]
        text = message if field in ("", "non_field_errors") else f"{field}: {message}"
    else:
        text = "Invalid input."
    errors = detail if isinstance(detail, dict) else {"non_field_errors": detail}
    return {"code": "invalid", "detail": text, "errors": errors}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, DomainError):
        body = {"code": exc.code, "detail": exc.message, **exc.data}
        return Response(body, status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        return Response(validation_body(detail), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = validation_body(exc.detail)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        response.data = {"code": codes if isinstance(codes, str) else exc.default_code, "detail": str(exc.detail)}
    return response


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler404``: under /api/ a path no view matches (``/api/v1/pumps/abc/``) gets the JSON error body."""
    if _is_api(request):
        return JsonResponse(
            {
                "code": "not_found",
                "detail": "Not found: no API resource at this path (ids in a path are whole numbers).",
            },
            status=404,
        )
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """``handler400``: a request Django refuses before any view (too many form fields, say) under /api/ gets JSON."""
    if _is_api(request):
        known = isinstance(exception, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent))
        return JsonResponse({"code": "bad_request", "detail": str(exception) if known else "Bad request."}, status=400)
    # Django passes the exception; its view never reads it, so None (a direct call) does too.
    return defaults.bad_request(request, cast(Exception, exception))


class ErrorSerializer(serializers.Serializer[dict[str, Any]]):
    """The error body every 4xx has, for OpenAPI ``responses`` (``{400: ErrorSerializer}``)."""

    code = serializers.CharField()
    detail = serializers.CharField()
    # A declared field: the serializer's metaclass takes it off the class, so it does not shadow ``.errors``.
    errors = serializers.DictField(  # type: ignore[assignment]
        child=serializers.ListField(child=serializers.CharField()),
        required=False,
        help_text="Validation errors only: messages by field.",
    )
