"""The order page's prescription upload (shop.views.prescriptions): each line's cover shown, a file
uploaded for the prescription lines; only the order's owner may upload."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from rx.models import Prescription
from rx.services.verification import prescription_reject
from shop.models import OrderLinePrescription
from tests.shop.fulfilment_helpers import approve, link, make_order, make_product, make_rx, make_user, png_file

pytestmark = pytest.mark.django_db


def test_order_page_shows_each_lines_status_and_uploads_a_prescription(owner, patient, pharmacist, private_media):
    product = make_product()
    order = make_order(owner, {product: 30})
    rejected = make_rx(patient, product)
    prescription_reject(prescription_id=rejected.pk, pharmacist=pharmacist, reason="Illegible scan.")
    link(order, rejected)
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("shop:order-detail", args=[order.number])).content.decode()
    assert "Not covered" in page and "Illegible scan." in page and 'id="rx-upload-form"' in page
    response = client.post(
        reverse("shop:order-prescription-upload", args=[order.number]),
        {"patient": patient.pk, "file": png_file()},
        follow=True,
    )
    assert "Prescription uploaded" in response.content.decode()
    new = Prescription.objects.exclude(pk=rejected.pk).get()
    assert OrderLinePrescription.objects.get().prescription == new
    assert "waiting for pharmacist verification" in response.content.decode()
    other = Client()
    other.force_login(make_user())
    assert (
        other.post(
            reverse("shop:order-prescription-upload", args=[order.number]), {"patient": patient.pk, "file": png_file()}
        ).status_code
        == 404
    )
    assert Prescription.objects.count() == 2


def _linked(how, order, patient, product, pharmacist):
    """A prescription linked to the order's line, covering it, waiting for review or rejected."""
    rx = make_rx(patient, product)
    if how == "covered":
        approve(rx, pharmacist)
    elif how == "rejected":
        prescription_reject(prescription_id=rx.pk, pharmacist=pharmacist, reason="Illegible scan.")
    link(order, rx)
    rx.refresh_from_db()
    return rx


@pytest.mark.parametrize("how", ["covered", "waiting", "rejected"])
def test_page_and_api_say_which_prescription_covers_each_line_and_why(how, owner, patient, pharmacist):
    """Issue 9: one sentence per prescription line (``shop.services.gating.line_cover_summary``), the same
    on the order page, in ``GET /api/v1/orders/<number>/`` and in its ``prescriptions/``."""
    product, otc = make_product(), make_product(rx_required=False)
    order = make_order(owner, {product: 30, otc: 1})
    rx = _linked(how, order, patient, product, pharmacist)
    expected = {
        "covered": (
            f"Covered by Rx {rx.pk} (approved, {rx.fills_remaining} fills left, expires {rx.expires_on:%Y-%m-%d})"
        ),
        "waiting": f"Waiting: Prescription {rx.pk} is waiting for pharmacist verification.",
        "rejected": f"Not covered: Prescription {rx.pk} was not accepted: Illegible scan.",
    }[how]
    client = Client()
    client.force_login(owner)
    page = client.get(reverse("shop:order-detail", args=[order.number])).content.decode()
    assert expected in page
    api = APIClient()
    api.force_authenticate(owner)
    detail = api.get(reverse("shop-api:order-detail", args=[order.number])).json()
    covers = {line["name"]: line["prescription_cover"] for line in detail["lines"]}
    assert covers[product.name]["summary"] == expected and covers[otc.name] is None
    assert covers[product.name]["status"] == {"rejected": "not_covered"}.get(how, how)
    lines = api.get(reverse("shop-api:order-prescriptions", args=[order.number])).json()["lines"]
    assert [line["summary"] for line in lines] == [expected]
