"""API request parsing (pharmacy/parsers.py): a bad JSON body is a 400 naming the problem, never a 500."""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework import parsers
from rest_framework.test import APIClient

from pharmacy.parsers import JSONParser
from rx.models import Prescription
from shop.models import CartLine
from tests.factories import UserFactory

# Deeper than Python's recursion limit: json.loads raises RecursionError, not ValueError.
TOO_DEEP = "[" * 100_000


def api(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def post_raw(client, path, body, content_type="application/json"):
    return client.generic("POST", path, body, content_type=content_type)


@pytest.mark.django_db
def test_a_json_body_nested_too_deeply_is_a_400_parse_error_and_adds_nothing_to_the_cart():
    response = post_raw(api(UserFactory()), "/api/v1/cart/items/", TOO_DEEP)

    assert response.status_code == 400
    assert response.json() == {"code": "parse_error",
                               "detail": "JSON parse error - the body is nested too deeply."}
    assert not CartLine.objects.exists()


@pytest.mark.django_db
def test_a_too_deeply_nested_body_to_a_view_with_its_own_parsers_is_a_400_and_saves_no_prescription():
    response = post_raw(api(UserFactory()), "/api/v1/prescriptions/", TOO_DEEP)

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Prescription.objects.exists()


@pytest.mark.django_db
def test_a_too_deeply_nested_fhir_json_body_is_a_400_and_imports_nothing():
    response = post_raw(api(UserFactory(is_staff=True, is_superuser=True)), "/api/v1/fhir/MedicationRequest",
                        TOO_DEEP, content_type="application/fhir+json")

    assert response.status_code == 400
    assert response.json()["code"] == "parse_error"
    assert not Prescription.objects.exists()


def _views(resolver=None):
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            yield from _views(entry)
        elif isinstance(entry, URLPattern) and hasattr(entry.callback, "cls"):
            yield entry.callback.cls


def test_every_api_view_parses_json_with_the_project_parser():
    views = [view for view in _views() if view.__module__.split(".")[0] in {"catalog", "rx", "shop", "pharmacy"}]
    assert views
    offenders = sorted(
        f"{view.__module__}.{view.__name__}"
        for view in views
        for parser in view.parser_classes
        if issubclass(parser, parsers.JSONParser) and not issubclass(parser, JSONParser)
    )
    assert offenders == []
