"""The <order_number:> converter (shop.converters) and NUL bytes in order URLs: never a 500.

A NUL in the path is refused first by core's input guard (400 naming ``path``); the converter,
which matches no segment holding a NUL, stays as a second wall (a 404 when a URL reaches it)."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.converters import OrderNumberConverter

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


def test_the_converter_matches_no_segment_holding_a_nul():
    pattern = re.compile(f"^{OrderNumberConverter.regex}$")
    assert pattern.match("PH-ABCDEFGH")
    assert not pattern.match("PH\x00X") and not pattern.match("\x00")


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%00/", "/api/v1/orders/%00/payment/", "/api/v1/orders/x%00y/prescriptions/"]
)
def test_an_order_number_with_a_nul_byte_is_a_400_naming_the_path_in_the_api(owner, path):
    response = api(owner).get(path)
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["path"]


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%00/cancel/", "/api/v1/orders/%00/pay/", "/api/v1/orders/%00/setup-intent/"]
)
def test_posting_to_an_order_number_with_a_nul_byte_is_a_400(owner, path):
    response = api(owner).post(path, {"payment_method": "pm_card_visa"}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["path"]


@pytest.mark.parametrize("path", ["/account/orders/%00/", "/orders/%00/pay/"])
def test_an_order_page_with_a_nul_byte_in_the_number_is_a_400(owner, path):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    response = client.get(path)
    assert response.status_code == 400
    assert b"path" in response.content
