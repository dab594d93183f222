"""The order page's prescription upload (shop.views.prescriptions): each line's cover shown, a file
uploaded for the prescription lines; only the order's owner may upload."""

import pytest
from django.test import Client
from django.urls import reverse

from rx.models import Prescription
from rx.services.verification import prescription_reject
from shop.models import OrderLinePrescription
from tests.shop.fulfilment_helpers import link, make_order, make_product, make_rx, make_user, png_file

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
