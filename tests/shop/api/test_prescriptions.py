"""The order prescriptions API (shop.api.views.prescriptions): a body it cannot read is a 4xx, never a 500.
(What linking does is tested with its service, services/test_prescriptions.py.)"""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from shop.models import OrderLinePrescription
from tests.shop.fulfilment_helpers import make_order, make_product, make_rx

pytestmark = pytest.mark.django_db
HUGE = 10**30


def api(user):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(user)
    return client


@pytest.mark.parametrize("body", [b"[1, 2]", b'"abc"', b"123", b"{not json"])
def test_linking_prescriptions_with_a_body_that_is_not_an_object_is_a_400(owner, body):
    order = make_order(owner, {make_product(): 30})
    response = api(owner).post(
        reverse("shop-api:order-prescriptions", args=[order.number]), body, content_type="application/json"
    )
    assert response.status_code == 400
    assert not OrderLinePrescription.objects.exists()


@pytest.mark.parametrize("field", ["prescription", "lines", "patient"])
def test_linking_prescriptions_with_huge_ids_is_a_4xx(owner, patient, field):
    product = make_product()
    order = make_order(owner, {product: 30})
    rx = make_rx(patient, product)
    body = {"prescription": rx.pk}
    if field == "prescription":
        body["prescription"] = HUGE
    elif field == "lines":
        body["lines"] = [HUGE]
    else:
        body = {"prescriber": {"name": "Dr A", "npi": "1234567893"}, "patient": HUGE}
    response = api(owner).post(reverse("shop-api:order-prescriptions", args=[order.number]), body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert not OrderLinePrescription.objects.exists()
