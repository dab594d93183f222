"""Celery entry points of the shop. Each takes ids, calls one service and is safe to run twice."""

from smtplib import SMTPException

from celery import shared_task
from django.db import InterfaceError, OperationalError

from .carriers import CarrierUnavailable
from .services import fulfilment, gating, inventory, refunds, webhooks


@shared_task(acks_late=True, ignore_result=True)
def orders_expire_task() -> list[str]:
    """Release expired reservations and expire their unpaid orders (beat, every minute)."""
    return inventory.orders_expire_reservations()


@shared_task(
    acks_late=True,
    ignore_result=True,
    autoretry_for=(SMTPException, ConnectionError),
    retry_backoff=True,
    max_retries=5,
)
def low_stock_check_task(product_ids: list[int]) -> list[int]:
    """Alert staff once per crossing of a product's low-stock threshold."""
    return inventory.low_stock_check(product_ids=product_ids)


@shared_task(acks_late=True, ignore_result=True)
def refunds_retry_pending_task() -> int:
    """Send again refunds left pending because Stripe was unreachable (beat)."""
    return refunds.refunds_retry_pending()


@shared_task(acks_late=True, ignore_result=True)
def stripe_events_retry_task() -> int:
    """Apply stored Stripe events that arrived before their order could be found (beat)."""
    return webhooks.stripe_events_process_pending()


# --- prescriptions gating and fulfilment ---------------------------------------------------
# Retried with exponential backoff on these only: the database, the broker, the carrier or the
# mail server being briefly unreachable (or a deadlock). Anything else is a bug or a business
# outcome recorded on the order, and retrying would not change it.
TRANSIENT = (OperationalError, InterfaceError, CarrierUnavailable, ConnectionError, TimeoutError, SMTPException)
_RETRY = {
    "acks_late": True,
    "ignore_result": True,
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "max_retries": 8,
}


@shared_task(**_RETRY)
def order_prescription_gate_task(order_id: int) -> str | None:
    """Move a waiting order on once its prescription lines are covered (idempotent)."""
    return gating.order_prescription_gate_by_id(order_id=order_id)


@shared_task(**_RETRY)
def order_fulfil_task(order_id: int) -> str | None:
    """Pick, fill, pack and ship a ready order; finish one left fulfilling (idempotent)."""
    return fulfilment.order_fulfil(order_id=order_id)


@shared_task(**_RETRY)
def order_notify_task(order_id: int, kind: str) -> bool:
    """E-mail the shopper about the order (confirmed, shipped, delivered), once per kind."""
    return fulfilment.order_notify(order_id=order_id, kind=kind)


@shared_task(acks_late=True, ignore_result=True)
def shipments_track_task() -> int:
    """Ask the carrier about shipped parcels and mark the delivered orders (beat)."""
    return fulfilment.shipments_track()


@shared_task(acks_late=True, ignore_result=True)
def orders_fulfil_stuck_task() -> int:
    """Enqueue again orders left ready or fulfilling for a while (a lost task; beat)."""
    ids = fulfilment.orders_fulfil_stuck()
    for order_id in ids:
        order_fulfil_task.delay(order_id)
    return len(ids)


BEAT_SCHEDULE = {
    "shop-shipments-track": {
        "task": "shop.tasks.shipments_track_task",
        "schedule": 3600.0,
        "options": {"expires": 3500},
    },
    "shop-orders-fulfil-stuck": {
        "task": "shop.tasks.orders_fulfil_stuck_task",
        "schedule": 600.0,
        "options": {"expires": 590},
    },
    "shop-orders-expire": {"task": "shop.tasks.orders_expire_task", "schedule": 60.0, "options": {"expires": 55}},
    "shop-refunds-retry-pending": {
        "task": "shop.tasks.refunds_retry_pending_task",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
    "shop-stripe-events-retry": {
        "task": "shop.tasks.stripe_events_retry_task",
        "schedule": 300.0,
        "options": {"expires": 290},
    },
}
