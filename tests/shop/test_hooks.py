"""What the shop plugs into rx (shop.hooks): a pharmacist who placed an order linked to a prescription
may not verify it; the review page lists the order lines waiting on the prescription."""

import pytest

from rx.services.verification import prescription_verification_conflicts
from shop.hooks import order_lines_waiting_on_prescription
from shop.models import Order
from shop.state import OrderStatus
from tests.shop.fulfilment_helpers import approve, link, make_order, make_patient, make_product, make_rx, make_user

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


def test_a_pharmacist_may_not_verify_another_prescription_that_could_cover_their_order_through_the_gate(
    patient, pharmacist
):
    """The gate's fallback: any approved prescription of the line's patient for the drug covers the order."""
    product = make_product()
    shopping_pharmacist = make_user(pharmacist=True)
    order = make_order(shopping_pharmacist, {product: 30})
    link(order, approve(make_rx(patient, product), pharmacist))
    newer = make_rx(patient, product)  # not linked: in review, it would cover the order once approved

    assert prescription_verification_conflicts(prescription=newer, user=shopping_pharmacist)
    assert prescription_verification_conflicts(prescription=newer, user=pharmacist) == []


def test_another_drug_another_patient_or_a_finished_order_is_no_conflict(owner, patient, pharmacist):
    product = make_product()
    shopping_pharmacist = make_user(pharmacist=True)
    order = make_order(shopping_pharmacist, {product: 30})
    link(order, make_rx(patient, product))
    other_drug = make_rx(patient, make_product(drug_name="Tizanidine"))
    other_patient = make_rx(make_patient(owner), product)
    assert prescription_verification_conflicts(prescription=other_drug, user=shopping_pharmacist) == []
    assert prescription_verification_conflicts(prescription=other_patient, user=shopping_pharmacist) == []
    Order.objects.filter(pk=order.pk).update(status=OrderStatus.DELIVERED)
    assert prescription_verification_conflicts(prescription=make_rx(patient, product), user=shopping_pharmacist) == []


def test_a_line_whose_patient_a_provider_knows_counts_for_that_patient(settings, patient, pharmacist):
    """A kit's line (patient known to pumps) with nothing linked: the pharmacist who placed it may not verify."""
    product = make_product()
    shopping_pharmacist = make_user(pharmacist=True)
    order = make_order(shopping_pharmacist, {product: 30})
    settings.SHOP_ORDER_LINE_PATIENT_PROVIDERS = [f"{__name__}.line_patient_for_test"]
    LINE_PATIENT.clear()
    LINE_PATIENT[order.lines.get().pk] = patient.pk

    assert prescription_verification_conflicts(prescription=make_rx(patient, product), user=shopping_pharmacist)


LINE_PATIENT: dict[int, int] = {}


def line_patient_for_test(*, line):
    return LINE_PATIENT.get(line.pk)
