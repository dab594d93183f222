"""Linking prescriptions to an order's prescription-required lines (rx never imports the shop).

Three ways in, each for one of the shopper's own patients (anyone else's: 404):
``order_prescription_link`` (an existing prescription), ``order_prescription_upload`` (a file,
through ``rx.services.uploads.prescription_upload``) and ``order_prescription_transfer`` (the
prescriber's details, through ``rx.services.prescriptions.prescription_transfer_request``).
``line_ids`` defaults to every prescription-required line. A line already linked is re-linked
to the new prescription. Linking is allowed until the order is ready to fulfil; after each of the
three an order waiting for review is gated again at once (an approved prescription may already
cover it: the linked one, or another of the patient the link names).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import transaction

from core.errors import Conflict, DomainError, NotFound
from rx.access import patients_owned_by
from rx.models import Prescription
from rx.services.prescriptions import prescription_transfer_request
from rx.services.uploads import prescription_upload

from ..access import order_for_user
from ..models import Order, OrderLine, OrderLinePrescription
from ..state import OrderStatus
from .gating import line_prescription_problem, order_prescription_gate

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile
    from django.http import HttpRequest

LINKABLE = frozenset(
    {
        OrderStatus.PENDING_PAYMENT,
        OrderStatus.PAYMENT_FAILED,
        OrderStatus.PAID,
        OrderStatus.AWAITING_PRESCRIPTION_REVIEW,
    }
)
UNUSABLE = (Prescription.Status.REJECTED, Prescription.Status.EXPIRED)


def _linkable_order(*, user: User, number: str) -> Order:
    order = order_for_user(user=user, number=number, lock=True)
    if order.status not in LINKABLE:
        raise Conflict(
            f"Order {order.number} is {order.get_status_display().lower()}; prescriptions can no longer "
            "be linked to it.",
            code="order_not_linkable",
            data={"status": order.status},
        )
    return order


def _lines(*, order: Order, line_ids: Iterable[int | str] | None) -> list[OrderLine]:
    rx_lines = list(order.lines.filter(rx_required=True).select_related("product").order_by("pk"))
    if not rx_lines:
        raise DomainError("lines: this order has no prescription-required lines.")
    if not line_ids:
        return rx_lines
    try:
        wanted = {int(i) for i in line_ids}
    except (TypeError, ValueError) as exc:
        raise DomainError("lines: give the ids of the order's prescription-required lines.") from exc
    by_id = {line.pk: line for line in rx_lines}
    unknown = sorted(wanted - set(by_id))
    if unknown:
        raise DomainError(
            f"lines: {unknown} are not prescription-required lines of order {order.number}.",
            data={"errors": {"lines": [f"Unknown or not prescription-required: {unknown}."]}},
        )
    return [by_id[i] for i in sorted(wanted)]


def _check_fit(*, prescription: Prescription, lines: list[OrderLine]) -> None:
    """The prescription must be for the patient and drug of every line it is linked to (gating's one rule)."""
    problems = [(line, line_prescription_problem(line=line, prescription=prescription)) for line in lines]
    wrong = [(line, problem) for line, problem in problems if problem]
    if wrong:
        detail = " ".join(f"Line {line.pk} ({line.product_name}): {problem}" for line, problem in wrong)
        code = "wrong_patient" if any("another patient" in problem for _, problem in wrong) else "wrong_drug"
        raise DomainError(
            f"prescription: {detail}", code=code, data={"errors": {"prescription": [problem for _, problem in wrong]}}
        )


def _link(
    *, order: Order, prescription: Prescription, lines: list[OrderLine], user: User
) -> list[OrderLinePrescription]:
    links = []
    for line in lines:
        link, _ = OrderLinePrescription.objects.update_or_create(
            order_line=line, defaults={"prescription": prescription, "linked_by": user}
        )
        links.append(link)
    return links


def _after_link(order: Order, user: User) -> None:
    if order.status == OrderStatus.AWAITING_PRESCRIPTION_REVIEW:
        transaction.on_commit(
            lambda: order_prescription_gate(order=order, actor=user, reason="Linked prescription covers the order.")
        )


def order_prescription_link(
    *, user: User, number: str, prescription_id: int | str, line_ids: Iterable[int | str] | None = None
) -> list[OrderLinePrescription]:
    """Link an existing prescription of one of the user's patients to the order's lines."""
    with transaction.atomic():
        order = _linkable_order(user=user, number=number)
        lines = _lines(order=order, line_ids=line_ids)
        prescription = (
            (
                Prescription.objects.filter(pk=prescription_id, patient__in=patients_owned_by(user))
                .select_related("product")
                .first()
            )
            if str(prescription_id).isdigit()
            else None
        )
        if prescription is None:
            raise NotFound("prescription: no such prescription among your patients'.")
        if prescription.status in UNUSABLE:
            raise DomainError(
                f"prescription: prescription {prescription.pk} is "
                f"{prescription.get_status_display().lower()}; upload a new one.",
                code="prescription_unusable",
            )
        _check_fit(prescription=prescription, lines=lines)
        links = _link(order=order, prescription=prescription, lines=lines, user=user)
        _after_link(order, user)
    return links


def order_prescription_upload(
    *,
    user: User,
    number: str,
    patient_id: int | str,
    file: UploadedFile[bytes],
    line_ids: Iterable[int | str] | None = None,
    notes: str = "",
    request: HttpRequest | None = None,
) -> list[OrderLinePrescription]:
    """Upload a prescription file for one of the user's patients and link it to the order's lines."""
    with transaction.atomic():
        order = _linkable_order(user=user, number=number)
        lines = _lines(order=order, line_ids=line_ids)
        prescription = prescription_upload(user=user, patient_id=patient_id, file=file, notes=notes, request=request)
        _check_fit(prescription=prescription, lines=lines)  # refused: the upload is rolled back with the link
        links = _link(order=order, prescription=prescription, lines=lines, user=user)
        _after_link(order, user)
    return links


def order_prescription_transfer(
    *,
    user: User,
    number: str,
    patient_id: int | str,
    prescriber: dict[str, Any],
    line_ids: Iterable[int | str] | None = None,
    transfer_pharmacy: str = "",
    notes: str = "",
    request: HttpRequest | None = None,
) -> list[OrderLinePrescription]:
    """Ask us to obtain the prescription from the prescriber, and link the request to the order's lines."""
    with transaction.atomic():
        order = _linkable_order(user=user, number=number)
        lines = _lines(order=order, line_ids=line_ids)
        products = {line.product_id for line in lines}
        prescription = prescription_transfer_request(
            user=user,
            patient_id=patient_id,
            prescriber=prescriber,
            product_id=products.pop() if len(products) == 1 else None,
            transfer_pharmacy=transfer_pharmacy,
            notes=notes,
            request=request,
        )
        _check_fit(prescription=prescription, lines=lines)  # refused: the request is rolled back with the link
        links = _link(order=order, prescription=prescription, lines=lines, user=user)
        _after_link(order, user)
    return links
