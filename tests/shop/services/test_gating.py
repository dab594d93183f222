"""Prescription gating of orders (shop.services.gating): which lines are covered, when a waiting
order moves on, mixed orders."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rx.models import Prescription
from rx.services.verification import prescription_reject
from shop.services.gating import order_prescription_gate, order_rx_covered, order_rx_status
from shop.state import OrderStatus
from tests.shop.fulfilment_helpers import approve, link, make_order, make_product, make_rx

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
    assert order_rx_covered(order=make_order(owner, {make_product(rx_required=False): 3}, status=OrderStatus.PAID))


def test_gate_leaves_orders_that_are_not_waiting_alone(owner, patient, pharmacist):
    product = make_product()
    order = make_order(owner, {product: 30}, status=OrderStatus.PAID)
    link(order, approve(make_rx(patient, product), pharmacist))
    assert gate(order) == OrderStatus.PAID
