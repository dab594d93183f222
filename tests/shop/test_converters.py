"""The <order_number:> converter (shop.converters): a number it cannot hold (a NUL byte) is a 404 in
the API and on the pages, never a 500."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
HUGE = 10**30


def api(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%00/", "/api/v1/orders/%00/payment/", "/api/v1/orders/x%00y/prescriptions/"]
)
def test_an_order_number_with_a_nul_byte_is_not_found_in_the_api(owner, path):
    assert api(owner).get(path).status_code == 404


@pytest.mark.parametrize(
    "path", ["/api/v1/orders/%00/cancel/", "/api/v1/orders/%00/pay/", "/api/v1/orders/%00/setup-intent/"]
)
def test_posting_to_an_order_number_with_a_nul_byte_is_not_found(owner, path):
    assert api(owner).post(path, {"payment_method": "pm_card_visa"}, format="json").status_code == 404


@pytest.mark.parametrize("path", ["/account/orders/%00/", "/orders/%00/pay/"])
def test_an_order_page_with_a_nul_byte_in_the_number_is_not_found(owner, path):
    client = Client(raise_request_exception=False)
    client.force_login(owner)
    assert client.get(path).status_code == 404
