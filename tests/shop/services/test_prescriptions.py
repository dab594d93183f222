"""Linking prescriptions to an order's lines (shop.services.prescriptions, through its API): an existing
prescription, an uploaded file or a transfer request; only the owner's patients and the order's
prescription lines; none once the order is being fulfilled. (``private_media``: tests/rx/fixtures.py.)"""

import io

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from rx.models import Prescription
from shop.models import OrderLinePrescription
from shop.services.gating import line_cover
from shop.state import OrderStatus
from tests.shop.fulfilment_helpers import approve, make_order, make_patient, make_product, make_rx, make_user, png_file

pytestmark = pytest.mark.django_db


def api(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(order):
    return reverse("shop-api:order-prescriptions", args=[order.number])


def test_owner_links_an_existing_prescription_and_sees_each_lines_cover(
    owner, patient, pharmacist, django_capture_on_commit_callbacks
):
    product, otc = make_product(), make_product(rx_required=False)
    order = make_order(owner, {product: 30, otc: 2})
    rx = approve(make_rx(patient, product), pharmacist)
    line = order.lines.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).post(url(order), {"prescription": rx.pk, "lines": [line.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lines"] == [
        {
            "line": line.pk,
            "product": product.name,
            "quantity": 30,
            "status": "covered",
            "prescription": rx.pk,
            "covered_by": rx.pk,
            "reasons": [],
            "summary": (
                f"Covered by Rx {rx.pk} (approved, {rx.fills_remaining} fills left, expires {rx.expires_on:%Y-%m-%d})"
            ),
        }
    ]
    assert OrderLinePrescription.objects.get().prescription == rx
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_FULFIL  # gated at once after the link


@pytest.mark.parametrize("who", ["anonymous", "other shopper"])
def test_only_the_owner_may_see_or_link_an_orders_prescriptions(owner, patient, who):
    product = make_product()
    order = make_order(owner, {product: 30})
    rx = make_rx(patient, product)
    user = None if who == "anonymous" else make_user()
    assert api(user).get(url(order)).status_code == 404
    assert api(user).post(url(order), {"prescription": rx.pk}, format="json").status_code == 404
    assert not OrderLinePrescription.objects.exists()


def test_a_prescription_of_someone_elses_patient_is_not_found(owner):
    product = make_product()
    order = make_order(owner, {product: 30})
    stranger_rx = make_rx(make_patient(make_user()), product)
    response = api(owner).post(url(order), {"prescription": stranger_rx.pk}, format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert not OrderLinePrescription.objects.exists()


def test_a_prescription_for_another_drug_is_refused_naming_the_field(owner, patient):
    product = make_product()
    order = make_order(owner, {product: 30})
    other = make_rx(patient, make_product(drug_name="Tizanidine"))
    response = api(owner).post(url(order), {"prescription": other.pk}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "wrong_drug" and response.json()["detail"].startswith("prescription:")
    assert not OrderLinePrescription.objects.exists()


def test_lines_must_be_prescription_lines_of_the_order(owner, patient):
    product, otc = make_product(), make_product(rx_required=False)
    order = make_order(owner, {product: 30, otc: 1})
    rx = make_rx(patient, product)
    otc_line = order.lines.get(product=otc)
    response = api(owner).post(url(order), {"prescription": rx.pk, "lines": [otc_line.pk]}, format="json")
    assert response.status_code == 400 and response.json()["detail"].startswith("lines:")
    empty = api(owner).post(url(order), {"lines": []}, format="json")
    assert empty.status_code == 400 and "prescription" in empty.json()["errors"]
    assert not OrderLinePrescription.objects.exists()


def test_no_links_once_the_order_is_being_fulfilled(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30}, status=OrderStatus.READY_TO_FULFIL)
    rx = make_rx(patient, product)
    response = api(owner).post(url(order), {"prescription": rx.pk}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "order_not_linkable"
    assert not OrderLinePrescription.objects.exists()


def test_uploading_a_file_links_the_new_prescription_to_every_prescription_line(owner, patient, private_media):
    first, second = make_product(), make_product(drug_name="Tizanidine")
    order = make_order(owner, {first: 30, second: 10})
    response = api(owner).post(url(order), {"file": png_file(), "patient": patient.pk}, format="multipart")
    assert response.status_code == 201, response.json()
    rx = Prescription.objects.get()
    assert rx.source == "upload" and rx.patient == patient
    assert [c["status"] for c in response.json()["lines"]] == ["waiting", "waiting"]
    assert set(OrderLinePrescription.objects.values_list("prescription_id", flat=True)) == {rx.pk}
    assert OrderLinePrescription.objects.count() == 2


def test_uploading_for_someone_elses_patient_saves_nothing(owner, private_media):
    product = make_product()
    order = make_order(owner, {product: 30})
    stranger = make_patient(make_user())
    response = api(owner).post(url(order), {"file": png_file(), "patient": stranger.pk}, format="multipart")
    assert response.status_code == 404
    assert not Prescription.objects.exists() and not OrderLinePrescription.objects.exists()


def test_a_disguised_file_is_refused_naming_the_field(owner, patient, private_media):
    order = make_order(owner, {make_product(): 30})
    fake = io.BytesIO(b"not an image at all")
    fake.name = "rx.png"
    response = api(owner).post(url(order), {"file": fake, "patient": patient.pk}, format="multipart")
    assert response.status_code == 400 and "file" in response.json()["errors"]
    assert not Prescription.objects.exists() and not OrderLinePrescription.objects.exists()


def test_a_transfer_request_is_linked_to_the_line(owner, patient):
    product = make_product()
    order = make_order(owner, {product: 30})
    response = api(owner).post(
        url(order), {"patient": patient.pk, "prescriber": {"name": "Dr Grace Hopper"}}, format="json"
    )
    assert response.status_code == 201, response.json()
    rx = Prescription.objects.get()
    assert rx.source == "transfer" and rx.product == product
    assert OrderLinePrescription.objects.get().prescription == rx


LINE_PATIENT: dict[int, int] = {}


def line_patient_for_test(*, line):
    """A ``SHOP_ORDER_LINE_PATIENT_PROVIDERS`` entry: the patient the test says the line is for."""
    return LINE_PATIENT.get(line.pk)


@pytest.fixture
def line_of(settings, owner, patient):
    """An order of ``owner`` whose prescription line is known (by a provider) to be for ``patient``."""
    settings.SHOP_ORDER_LINE_PATIENT_PROVIDERS = [f"{__name__}.line_patient_for_test"]
    product = make_product()
    order = make_order(owner, {product: 30})
    LINE_PATIENT.clear()
    LINE_PATIENT[order.lines.get().pk] = patient.pk
    return order, product


@pytest.mark.parametrize("how", ["link", "upload"])
def test_a_prescription_of_another_of_the_owners_patients_is_refused_for_a_line_of_a_known_patient(
    line_of, owner, patient, pharmacist, private_media, how
):
    order, product = line_of
    sibling = make_patient(owner)
    if how == "link":
        body, fmt = {"prescription": approve(make_rx(sibling, product), pharmacist).pk}, "json"
    else:
        body, fmt = {"file": png_file(), "patient": sibling.pk}, "multipart"
    count = Prescription.objects.count()

    response = api(owner).post(url(order), body, format=fmt)

    assert response.status_code == 400, response.json()
    assert response.json()["code"] == "wrong_patient"
    assert response.json()["detail"].startswith("prescription:") and "another patient" in response.json()["detail"]
    assert not OrderLinePrescription.objects.exists()
    assert Prescription.objects.count() == count  # the upload was rolled back with the refused link


def test_the_gate_never_counts_another_patients_prescription_and_falls_back_to_the_lines_own(
    line_of, owner, patient, pharmacist
):
    order, product = line_of
    line = order.lines.get()
    OrderLinePrescription.objects.create(
        order_line=line, prescription=approve(make_rx(make_patient(owner), product), pharmacist)
    )
    assert not line_cover(line=line).covered
    own = approve(make_rx(patient, product), pharmacist)
    assert line_cover(line=line).prescription == own


@pytest.mark.parametrize("how", ["upload", "transfer"])
def test_an_upload_or_transfer_re_gates_the_waiting_order(
    how, owner, patient, pharmacist, private_media, django_capture_on_commit_callbacks
):
    """Issue 9: every link re-runs the gate. An approved prescription of the patient already covers the
    line; the order waited only because nothing tied the line to a patient until the shopper's upload."""
    product = make_product()
    order = make_order(owner, {product: 30})
    approve(make_rx(patient, product), pharmacist)
    body = (
        ({"file": png_file(), "patient": patient.pk}, "multipart")
        if how == "upload"
        else ({"patient": patient.pk, "prescriber": {"name": "Dr Grace Hopper"}}, "json")
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).post(url(order), body[0], format=body[1])
    assert response.status_code == 201, response.json()
    order.refresh_from_db()
    assert order.status == OrderStatus.READY_TO_FULFIL
