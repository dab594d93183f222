"""The prescription gate of kit orders (pumps.services.kits.gating): a kit waits for an approved intrathecal
prescription of its patient, which goes first in the pharmacist's queue, and moves on once approved."""

from django.urls import reverse

from pumps.services.kits.gating import kit_order_gate, kits_prescription_changed
from pumps.services.kits.orders import kit_order_create
from rx.models import Dispense, Prescription
from rx.services.verification import prescription_approve
from shop.models import OrderEvent, OrderLinePrescription
from shop.services.gating import line_cover
from shop.state import OrderStatus
from tests.pumps.fixtures import DUE, SHIP, client_for, due_pump, intrathecal_rx, pharmacist


def test_a_kit_order_waits_for_an_approved_intrathecal_prescription_which_goes_first_in_the_queue(kit_world):
    rx = intrathecal_rx(kit_world.pump.patient, kit_world.product, routine=True)

    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    rx.refresh_from_db()
    assert rx.priority == Prescription.Priority.URGENT
    assert "kit" in rx.priority_reason.lower()


def test_a_kit_order_covered_by_an_approved_prescription_is_ready_to_fulfil(kit_world):
    intrathecal_rx(kit_world.pump.patient, kit_world.product, approve_by=pharmacist())

    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL
    assert OrderEvent.objects.filter(order=kit.order, to_status=OrderStatus.AWAITING_PRESCRIPTION_REVIEW).exists()


def test_approving_the_prescription_later_moves_the_waiting_kit_order_on(kit_world):
    rx = intrathecal_rx(kit_world.pump.patient, kit_world.product)
    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    rx.refresh_from_db()
    prescription_approve(
        prescription_id=rx.pk, pharmacist=pharmacist(), overrides={f.code: "Checked." for f in rx.findings.all()}
    )
    assert kits_prescription_changed(prescription_id=rx.pk) == [kit.pk]

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL


def test_a_prescription_of_another_patient_does_not_cover_the_kit(kit_world):
    other = due_pump(kit_world.clinic)
    intrathecal_rx(other.patient, kit_world.product, approve_by=pharmacist())

    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)

    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def test_another_patients_prescription_cannot_be_linked_to_the_kit_through_the_shop_api(kit_world):
    other = due_pump(kit_world.clinic)
    rx_a = intrathecal_rx(other.patient, kit_world.product, approve_by=pharmacist())
    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)

    response = client_for(kit_world.staff).post(
        reverse("shop-api:order-prescriptions", args=[kit.order.number]), {"prescription": rx_a.pk}, format="json"
    )

    assert response.status_code == 400, response.json()
    assert "prescription" in response.json()["detail"]
    assert "patient" in response.json()["detail"]
    assert not OrderLinePrescription.objects.filter(order_line__order=kit.order, prescription=rx_a).exists()
    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW


def test_a_link_to_another_patients_prescription_never_covers_the_kit_nor_is_filled(kit_world):
    other = due_pump(kit_world.clinic)
    rx_a = intrathecal_rx(other.patient, kit_world.product, approve_by=pharmacist())
    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    line = kit.order.lines.get()
    OrderLinePrescription.objects.update_or_create(order_line=line, defaults={"prescription": rx_a})  # old data

    cover = line_cover(line=line)
    kit_order_gate(kit_order_id=kit.pk, now=DUE)

    assert not cover.covered
    assert any("another patient" in reason for reason in cover.reasons)
    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW
    assert not Dispense.objects.filter(prescription=rx_a).exists()


def test_the_kit_flow_replaces_a_link_to_another_patients_prescription_with_its_own_patients(kit_world):
    other = due_pump(kit_world.clinic)
    rx_a = intrathecal_rx(other.patient, kit_world.product, approve_by=pharmacist())
    kit = kit_order_create(pump=kit_world.pump, user=kit_world.staff, shipping=SHIP, now=DUE)
    line = kit.order.lines.get()
    OrderLinePrescription.objects.update_or_create(order_line=line, defaults={"prescription": rx_a})
    rx_b = intrathecal_rx(kit_world.pump.patient, kit_world.product, approve_by=pharmacist())

    kit_order_gate(kit_order_id=kit.pk, now=DUE)

    assert OrderLinePrescription.objects.get(order_line=line).prescription == rx_b
    kit.order.refresh_from_db()
    assert kit.order.status == OrderStatus.READY_TO_FULFIL
    assert line_cover(line=line).prescription == rx_b
