"""API request parsing (core/api/parsers.py): a bad JSON body is a 400 naming the problem, never a 500;
a JSON body over API_MAX_JSON_BYTES is a 413."""

import io
import json

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import parsers

from core.api.parsers import JSONParser
from core.errors import RequestTooLarge
from rx.models import Prescription
from shop.models import CartLine
from tests.core.api_helpers import api, post_raw
from tests.core.factories import UserFactory

# Deeper than Python's recursion limit: json.loads raises RecursionError, not ValueError.
TOO_DEEP = "[" * 100_000


@pytest.mark.django_db
def test_a_json_body_nested_too_deeply_is_a_400_parse_error_and_adds_nothing_to_the_cart():
    response = post_raw(api(UserFactory()), "/api/v1/cart/items/", TOO_DEEP)

    assert response.status_code == 400
    assert response.json() == {"code": "parse_error", "detail": "JSON parse error - the body is nested too deeply."}
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_a_too_deeply_nested_body_to_a_view_with_its_own_parsers_is_a_400_and_saves_no_prescription():
    response = post_raw(api(UserFactory()), "/api/v1/prescriptions/", TOO_DEEP)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Prescription.objects.exists()


@pytest.mark.django_db
def test_a_too_deeply_nested_fhir_json_body_is_a_400_and_imports_nothing():
    response = post_raw(
        api(UserFactory(is_staff=True, is_superuser=True)),
        "/api/v1/fhir/MedicationRequest",
        TOO_DEEP,
        content_type="application/fhir+json",
    )

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Prescription.objects.exists()


def padded_json(size: int) -> str:
    """A valid JSON object of exactly ``size`` bytes (a cart line with a long padding field)."""
    base = json.dumps({"product": "x", "quantity": 1, "pad": ""})
    return base[:-2] + " " * (size - len(base)) + base[-2:]


@pytest.mark.django_db
def test_a_multi_megabyte_json_body_is_a_413_and_adds_nothing_to_the_cart():
    response = post_raw(api(UserFactory()), "/api/v1/cart/items/", padded_json(3 * 1024 * 1024))

    assert response.status_code == 413
    assert response.json() == {
        "code": "request_too_large",
        "detail": "The JSON body is larger than 1048576 bytes.",
        "max_bytes": 1048576,
    }
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_the_json_limit_comes_from_api_max_json_bytes_and_a_body_at_the_limit_is_parsed(settings):
    settings.API_MAX_JSON_BYTES = 200
    client = api(UserFactory())

    over = post_raw(client, "/api/v1/cart/items/", padded_json(201))
    at_limit = post_raw(client, "/api/v1/cart/items/", padded_json(200))

    assert over.status_code == 413 and over.json()["code"] == "request_too_large"
    assert at_limit.status_code == 400  # parsed: the made-up product is refused by the serializer, not the size
    assert at_limit.json()["code"] == "invalid"
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_a_too_large_json_body_to_a_view_with_its_own_parsers_is_a_413_and_imports_nothing(settings):
    settings.API_MAX_JSON_BYTES = 100
    response = post_raw(
        api(UserFactory(is_staff=True, is_superuser=True)),
        "/api/v1/fhir/MedicationRequest",
        padded_json(5000),
        content_type="application/fhir+json",
    )

    assert response.status_code == 413
    assert response.json()["code"] == "request_too_large"
    assert not Prescription.objects.exists()


class _Request:
    def __init__(self, **meta):
        self.META = meta


class _CountingStream(io.BytesIO):
    def __init__(self, data):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, size=-1):
        chunk = super().read(size)
        self.bytes_read += len(chunk)
        return chunk


def test_a_declared_content_length_over_the_limit_is_refused_before_reading(settings):
    settings.API_MAX_JSON_BYTES = 10
    stream = _CountingStream(b"{}")

    with pytest.raises(RequestTooLarge):
        JSONParser().parse(stream, "application/json", {"request": _Request(CONTENT_LENGTH="11")})
    assert stream.bytes_read == 0


@pytest.mark.parametrize("meta", [{}, {"CONTENT_LENGTH": "2"}, {"CONTENT_LENGTH": "abc"}])
def test_the_bytes_read_are_capped_whatever_the_content_length_says(settings, meta):
    settings.API_MAX_JSON_BYTES = 10
    stream = _CountingStream(b'["' + b"x" * 10_000 + b'"]')

    with pytest.raises(RequestTooLarge) as excinfo:
        JSONParser().parse(stream, "application/json", {"request": _Request(**meta)})
    assert stream.bytes_read == 11
    assert excinfo.value.status_code == 413 and excinfo.value.code == "request_too_large"


def test_a_small_body_without_content_length_is_parsed(settings):
    settings.API_MAX_JSON_BYTES = 10
    assert JSONParser().parse(io.BytesIO(b'{"a": 1}'), "application/json", {"request": _Request()}) == {"a": 1}


def _views(resolver=None):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry)
        elif isinstance(entry, URLPattern) and hasattr(entry.callback, "cls"):
            yield entry.callback.cls


def test_every_api_view_parses_json_with_the_project_parser():
    views = [
        view
        for view in _views()
        if view.__module__.split(".")[0] in {"core", "catalog", "rx", "shop", "pumps", "pharmacy"}
    ]
    assert views
    offenders = sorted(
        f"{view.__module__}.{view.__name__}"
        for view in views
        for parser in view.parser_classes
        if issubclass(parser, parsers.JSONParser) and not issubclass(parser, JSONParser)
    )
    assert offenders == []


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body, field",
    [
        ('{"product": "0832-1024-00\\u0000", "quantity": 1}', "product"),
        ('{"product": "x", "note\\u0000": 1}', "note\\x00"),
        ('{"lines": [{"name": "a"}, {"name": "b\\u0000"}]}', "lines[1].name"),
        ('"just a string\\u0000"', "body"),
    ],
)
def test_a_nul_character_anywhere_in_a_json_body_is_a_400_naming_where(body, field):
    response = post_raw(api(UserFactory()), "/api/v1/cart/items/", body)

    assert response.status_code == 400
    assert response.json()["code"] == "invalid"
    assert list(response.json()["errors"]) == [field]
    assert response.json()["detail"].startswith(f"{field}: NUL characters")
    assert not CartLine.objects.exists()
