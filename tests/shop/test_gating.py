"""Prescription gating of orders: which lines are covered, when a waiting order moves on,
mixed orders, and the rx hooks (self-verification, the review page's order lines)."""

import io
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from rx.models import Prescription
from rx.services.verification import prescription_reject, prescription_verification_conflicts
from shop.hooks import order_lines_waiting_on_prescription
from shop.models import OrderLinePrescription
from shop.services.gating import order_prescription_gate, order_rx_covered, order_rx_status
from shop.state import OrderStatus

from .fulfilment_helpers import (
    approve,
    link,
    make_order,
    make_patient,
    make_product,
    make_rx,
    make_user,
    png_file,
)

pytestmark = pytest.mark.django_db
WAITING = OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def gate(order):
    return order_prescription_gate(order=order, actor="system").status


def test_order_without_a_linked_prescription_stays_waiting(owner):
    order = make_order(owner, {make_product(): 30})
    assert gate(order) == WAITING
    [cover] = order_rx_status(order=order)
    assert cover.status == "waiting" and "No prescription linked" in cover.reasons[0]


def test_prescription_still_in_review_keeps_the_order_waiting(owner, patient):
    product = make_product()
    order = make_order(owner, {product: 30})
    link(order, make_rx(patient, product))
    assert gate(order) == WAITING
    assert "waiting for pharmacist verification" in order_rx_status(order=order)[0].reasons[0]


def test_approved_prescription_with_enough_quantity_makes_the_order_ready(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30})
    link(order, approve(make_rx(patient, product), pharmacist))
    assert gate(order) == OrderStatus.READY_TO_FULFIL
    assert order.events.last().reason == "Prescriptions verified."


def test_expired_prescription_does_not_cover_and_says_so(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30})
    rx = approve(make_rx(patient, product), pharmacist)
    Prescription.objects.filter(pk=rx.pk).update(expires_on=timezone.localdate() - timedelta(days=1))
    link(order, rx)
    assert gate(order) == WAITING
    cover = order_rx_status(order=order)[0]
    assert cover.status == "not_covered" and "expired on" in " ".join(cover.reasons)


def test_prescription_for_another_drug_does_not_cover(owner, patient, pharmacist):
    product, other = make_product(), make_product(drug_name="Tizanidine")
    order = make_order(owner, {product: 30})
    link(order, approve(make_rx(patient, other), pharmacist))
    assert gate(order) == WAITING
    assert "No prescription for" in order_rx_status(order=order)[0].reasons[0]


def test_not_enough_quantity_left_does_not_cover(owner, patient, pharmacist):
    product = make_product(lots=((500, 365),))
    order = make_order(owner, {product: 120})
    link(order, approve(make_rx(patient, product, quantity=90), pharmacist))
    assert gate(order) == WAITING
    assert "a fill is at most 90 units; 120 were ordered" in order_rx_status(order=order)[0].reasons[0]


def test_rejected_prescription_keeps_the_order_waiting_with_the_pharmacists_reason(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30})
    rx = make_rx(patient, product)
    prescription_reject(prescription_id=rx.pk, pharmacist=pharmacist, reason="Signature missing.")
    link(order, rx)
    assert gate(order) == WAITING
    cover = order_rx_status(order=order)[0]
    assert cover.status == "not_covered" and "Signature missing." in cover.reasons[0]


def test_another_approved_prescription_of_the_same_patient_covers_the_line(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30})
    link(order, make_rx(patient, product))  # still in review
    other = approve(make_rx(patient, product), pharmacist)
    assert gate(order) == OrderStatus.READY_TO_FULFIL
    assert order_rx_status(order=order)[0].prescription == other


def test_mixed_order_waits_until_every_prescription_line_is_covered(owner, patient, pharmacist):
    first, second, otc = make_product(), make_product(drug_name="Tizanidine"), make_product(rx_required=False)
    order = make_order(owner, {first: 30, second: 30, otc: 5})
    link(order, approve(make_rx(patient, first), pharmacist), product=first)
    pending = make_rx(patient, second)
    link(order, pending, product=second)
    assert not order_rx_covered(order=order)
    assert gate(order) == WAITING
    assert [c.status for c in order_rx_status(order=order)] == ["covered", "waiting"]
    approve(pending, pharmacist)
    assert gate(order) == OrderStatus.READY_TO_FULFIL


def test_order_of_non_prescription_lines_only_is_covered(owner):
    assert order_rx_covered(order=make_order(owner, {make_product(rx_required=False): 3},
                                             status=OrderStatus.PAID))


def test_gate_leaves_orders_that_are_not_waiting_alone(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30}, status=OrderStatus.PAID)
    link(order, approve(make_rx(patient, product), pharmacist))
    assert gate(order) == OrderStatus.PAID


def test_pharmacist_who_placed_a_linked_order_cannot_verify_the_prescription(patient, pharmacist):
    product = make_product()
    shopping_pharmacist = make_user(pharmacist=True)
    order = make_order(shopping_pharmacist, {product: 30})
    rx = make_rx(patient, product)
    assert prescription_verification_conflicts(prescription=rx, user=shopping_pharmacist) == []
    link(order, rx)
    assert prescription_verification_conflicts(prescription=rx, user=shopping_pharmacist)
    assert prescription_verification_conflicts(prescription=rx, user=pharmacist) == []


def test_review_page_lists_the_order_lines_waiting_on_the_prescription(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30})
    rx = make_rx(patient, product)
    assert order_lines_waiting_on_prescription(rx, pharmacist)["rows"] == []
    link(order, rx)
    panel = order_lines_waiting_on_prescription(rx, pharmacist)
    [row] = panel["rows"]
    assert panel["title"] == "Order lines waiting on this prescription"
    assert row["label"].startswith(order.number) and row["url"] == f"/admin/shop/order/{order.pk}/change/"
    assert "30 x" in row["detail"]


# --- linking prescriptions to an order (API and order page) ---------------------------------



@pytest.fixture
def private_media(settings, tmp_path):
    storages = dict(settings.STORAGES)
    storages["default"] = {**storages["default"], "OPTIONS": {**storages["default"].get("OPTIONS", {}),
                                                              "location": str(tmp_path / "private")}}
    settings.STORAGES = storages


def api(user):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def url(order):
    return reverse("shop-api:order-prescriptions", args=[order.number])


def test_owner_links_an_existing_prescription_and_sees_each_lines_cover(owner, patient, pharmacist,
                                                                        django_capture_on_commit_callbacks):
    product, otc = make_product(), make_product(rx_required=False)
    order = make_order(owner, {product: 30, otc: 2})
    rx = approve(make_rx(patient, product), pharmacist)
    line = order.lines.get(product=product)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(owner).post(url(order), {"prescription": rx.pk, "lines": [line.pk]}, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["lines"] == [{"line": line.pk, "product": product.name, "quantity": 30, "status": "covered",
                              "prescription": rx.pk, "covered_by": rx.pk, "reasons": []}]
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
    response = api(owner).post(url(order), {"patient": patient.pk, "prescriber": {"name": "Dr Grace Hopper"}},
                               format="json")
    assert response.status_code == 201, response.json()
    rx = Prescription.objects.get()
    assert rx.source == "transfer" and rx.product == product
    assert OrderLinePrescription.objects.get().prescription == rx


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
    response = client.post(reverse("shop:order-prescription-upload", args=[order.number]),
                           {"patient": patient.pk, "file": png_file()}, follow=True)
    assert "Prescription uploaded" in response.content.decode()
    new = Prescription.objects.exclude(pk=rejected.pk).get()
    assert OrderLinePrescription.objects.get().prescription == new
    assert "waiting for pharmacist verification" in response.content.decode()
    other = Client()
    other.force_login(make_user())
    assert other.post(reverse("shop:order-prescription-upload", args=[order.number]),
                      {"patient": patient.pk, "file": png_file()}).status_code == 404
    assert Prescription.objects.count() == 2
