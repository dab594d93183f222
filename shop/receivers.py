"""Signal receivers of the shop, connected in ``ShopConfig.ready``."""

import logging

from django.db import transaction

log = logging.getLogger(__name__)


def merge_cart_on_login(sender, request, user, **kwargs):
    """Sign-in: the session's anonymous cart joins the account's cart."""
    from .services.cart import cart_merge_session_into_user

    session = getattr(request, "session", None)
    if session is not None:
        cart_merge_session_into_user(session=session, user=user)


def check_low_stock_on_change(sender, product_ids, **kwargs):
    """Availability changed (catalog's ``stock_changed``, sent after commit): check thresholds in a task."""
    from .tasks import low_stock_check_task

    ids = sorted(set(product_ids))

    def enqueue():
        try:
            low_stock_check_task.delay(ids)
        except Exception:  # the broker being down must not fail the checkout that changed the stock
            log.exception("Could not enqueue the low-stock check for products %s", ids)

    if ids:
        transaction.on_commit(enqueue)


def delivered_order_holds_product(*, user_id, product_id):
    """catalog's ``purchase_checkers`` hook: a review is a verified purchase after a delivery."""
    from .services.orders import user_has_received_product

    return user_has_received_product(user_id=user_id, product_id=product_id)


# --- prescriptions and fulfilment ---------------------------------------------------------

def _enqueue(task, *args):
    """Enqueue after commit; a broker outage is logged, and the beat sweeps pick the work up."""

    def send():
        try:
            task.delay(*args)
        except Exception:
            log.exception("Could not enqueue %s%s", task.name, args)

    transaction.on_commit(send)


def gate_orders_on_prescription_change(sender, prescription_id, **kwargs):
    """rx's ``prescription_decided`` / ``prescription_status_changed``: re-gate the waiting orders."""
    from .services.gating import orders_waiting_on_prescription
    from .tasks import order_prescription_gate_task

    for order_id in orders_waiting_on_prescription(prescription_id=prescription_id):
        _enqueue(order_prescription_gate_task, order_id)


def _is_refill_kit(order_id) -> bool:
    try:
        from .services.kits import order_is_refill_kit
    except ImportError:
        return False
    return order_is_refill_kit(order_id=order_id)


def fulfil_and_notify_on_status_change(sender, order_id, to_status, **kwargs):
    """``order_status_changed``: fulfil a ready order; e-mail the shopper at paid, shipped, delivered."""
    from .services.fulfilment import shipment_record_delivered
    from .state import OrderStatus
    from .tasks import order_fulfil_task, order_notify_task

    if to_status == OrderStatus.READY_TO_FULFIL:
        if not _is_refill_kit(order_id):  # kits ship on their ship-by day (shop.services.kits dispatch)
            _enqueue(order_fulfil_task, order_id)
    elif to_status == OrderStatus.PAID:
        _enqueue(order_notify_task, order_id, "confirmed")
    elif to_status == OrderStatus.SHIPPED:
        _enqueue(order_notify_task, order_id, "shipped")
    elif to_status == OrderStatus.DELIVERED:
        shipment_record_delivered(order_id=order_id)
        _enqueue(order_notify_task, order_id, "delivered")


def pharmacist_placed_linked_order(prescription, user) -> bool:
    """rx's ``self_verification_checks``: True (blocked) when ``user`` placed an order linked to it."""
    from .models import OrderLinePrescription

    return OrderLinePrescription.objects.filter(prescription_id=prescription.pk,
                                                order_line__order__user_id=user.pk).exists()


def order_lines_waiting_on_prescription(prescription, user) -> dict:
    """rx's ``review_context_providers``: the order lines linked to the prescription, with admin links."""
    from django.urls import NoReverseMatch, reverse

    from .models import OrderLinePrescription

    links = (OrderLinePrescription.objects.filter(prescription_id=prescription.pk)
             .select_related("order_line__order").order_by("order_line__order_id", "order_line_id"))
    rows = []
    for link in links:
        line, order = link.order_line, link.order_line.order
        try:
            url = reverse("admin:shop_order_change", args=[order.pk])
        except NoReverseMatch:
            url = ""
        rows.append({"label": f"{order.number} line {line.pk}", "url": url,
                     "detail": f"{line.quantity} x {line.product_name} ({order.get_status_display().lower()})"})
    return {"title": "Order lines waiting on this prescription", "rows": rows}
