"""Signal receivers of the shop, connected in ``ShopConfig.ready``.

The work runs in Celery tasks enqueued after the commit (``core.enqueue``), so a broker hiccup never
fails the change that caused it; the beat sweeps pick up what could not be enqueued.
"""

from django.contrib import messages
from django.contrib.auth.signals import user_logged_in

from catalog.services.stock import stock_changed
from core.enqueue import enqueue_on_commit
from rx.signals import prescription_status_changed
from rx.state import PrescriptionStatus

from .models import Order
from .services.cart import MAX_QUANTITY, cart_merge_session_into_user
from .services.fulfilment import shipment_record_delivered
from .services.gating import orders_waiting_on_prescription
from .signals import order_status_changed
from .state import OrderStatus
from .tasks import low_stock_check_task, order_fulfil_task, order_notify_task, order_prescription_gate_task


def merge_cart_on_login(sender, request, user, **kwargs):
    """Sign-in: the session's anonymous cart joins the account's cart; a line held at the cap is told."""
    session = getattr(request, "session", None)
    if session is None:
        return
    merged = cart_merge_session_into_user(session=session, user=user)
    for line in merged.capped:
        messages.warning(
            request,
            f"Your cart already held {line.product.name}: with what you added before signing in it came to "
            f"{line.combined}, so the line holds {MAX_QUANTITY}, the most one line can hold.",
            fail_silently=True,  # an API sign-in has no message storage
        )


def check_low_stock_on_change(sender, product_ids, **kwargs):
    """Availability changed (catalog's ``stock_changed``, sent after commit): check thresholds in a task."""
    ids = sorted(set(product_ids))
    if ids:
        enqueue_on_commit(low_stock_check_task, ids)


def gate_orders_on_prescription_change(sender, prescription_id, to_status, **kwargs):
    """rx's ``prescription_status_changed`` (every decision changes the status): re-gate the waiting orders.

    Entering review decides nothing an order waits on, so one approval (received -> in review ->
    approved) gates each waiting order once.
    """
    if to_status == PrescriptionStatus.IN_REVIEW:
        return
    for order_id in orders_waiting_on_prescription(prescription_id=prescription_id):
        enqueue_on_commit(order_prescription_gate_task, order_id)


def fulfil_and_notify_on_status_change(sender, order_id, to_status, **kwargs):
    """``order_status_changed``: fulfil a ready order; e-mail the shopper at paid, shipped, delivered."""
    if to_status == OrderStatus.READY_TO_FULFIL:
        # A scheduled dispatch (a refill kit on its ship-by day) is fulfilled by its own flow.
        if Order.objects.filter(pk=order_id, scheduled_dispatch=False).exists():
            enqueue_on_commit(order_fulfil_task, order_id)
    elif to_status == OrderStatus.PAID:
        enqueue_on_commit(order_notify_task, order_id, "confirmed")
    elif to_status == OrderStatus.SHIPPED:
        enqueue_on_commit(order_notify_task, order_id, "shipped")
    elif to_status == OrderStatus.DELIVERED:
        shipment_record_delivered(order_id=order_id)
        enqueue_on_commit(order_notify_task, order_id, "delivered")


def connect() -> None:
    """Connect the shop's receivers (called from ``ShopConfig.ready``)."""
    user_logged_in.connect(merge_cart_on_login, dispatch_uid="shop.merge_cart_on_login")
    stock_changed.connect(check_low_stock_on_change, dispatch_uid="shop.check_low_stock")
    prescription_status_changed.connect(gate_orders_on_prescription_change, dispatch_uid="shop.gate_status")
    order_status_changed.connect(fulfil_and_notify_on_status_change, dispatch_uid="shop.fulfil_notify")
