"""Request parsers for the API (``REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]``).

A module of its own, importing no DRF views: ``rest_framework.views`` reads
``DEFAULT_PARSER_CLASSES`` when it is imported, so the parsers must not import it back.
"""

import io
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework import exceptions, parsers

from core.errors import RequestTooLarge
from core.inputs import NUL_MESSAGE, nul_path

DEFAULT_MAX_JSON_BYTES = 1024 * 1024


def max_json_bytes() -> int:
    return getattr(settings, "API_MAX_JSON_BYTES", DEFAULT_MAX_JSON_BYTES)


def _declared_length(parser_context: Mapping[str, Any] | None) -> int | None:
    request = (parser_context or {}).get("request")
    meta = getattr(request, "META", None) or {}
    raw = meta.get("CONTENT_LENGTH") or meta.get("HTTP_CONTENT_LENGTH")
    try:
        return int(raw) if raw not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _read_at_most(stream: IO[Any] | None, size: int) -> bytes:
    """Read until the end of ``stream`` or ``size`` bytes, whichever comes first (reads may come short)."""
    if stream is None:
        return b""
    chunks, total = [], 0
    while total < size:
        chunk = stream.read(min(size - total, 64 * 1024))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> RequestTooLarge:
    return RequestTooLarge(f"The JSON body is larger than {limit} bytes.", data={"max_bytes": limit})


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, plus:

    - a body larger than ``settings.API_MAX_JSON_BYTES`` (default 1 MiB) is a 413
      ``{"code": "request_too_large", ...}``: refused from its Content-Length before anything is read,
      and the bytes actually read are capped too (a missing or lying Content-Length gains nothing);
    - a body nested too deeply for Python's decoder is a 400, not a 500 (``json`` raises
      ``RecursionError``, not ``ValueError``, for ``[[[[...`` some thousand levels deep);
    - a NUL character in any key or string (``"\\u0000"``) is a 400 naming where it is
      (``{"errors": {"contained[0].name[0].family": [...]}}``): PostgreSQL text cannot hold it.

    Every API view parses JSON with this class (it is ``DEFAULT_PARSER_CLASSES``'s JSON parser; views
    that list their parsers name it too). Multipart uploads are not JSON and keep ``RX_UPLOAD_MAX_BYTES``.
    """

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        limit = max_json_bytes()
        declared = _declared_length(parser_context)
        if declared is not None and declared > limit:
            raise _too_large(limit)
        body = _read_at_most(stream, limit + 1)
        if len(body) > limit:
            raise _too_large(limit)
        try:
            data = super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError as exc:
            raise exceptions.ParseError("JSON parse error - the body is nested too deeply.") from exc
        where = nul_path(data)
        if where is not None:
            raise exceptions.ValidationError({where: [NUL_MESSAGE]})
        return data
