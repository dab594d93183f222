"""What the shop plugs into rx (shop.hooks): a pharmacist who placed an order linked to a prescription
may not verify it; the review page lists the order lines waiting on the prescription."""

import pytest

from rx.services.verification import prescription_verification_conflicts
from shop.hooks import order_lines_waiting_on_prescription
from tests.shop.fulfilment_helpers import link, make_order, make_product, make_rx, make_user

pytestmark = pytest.mark.django_db


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
