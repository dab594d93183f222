"""Celery entry points of the shop. Each takes ids, calls one service and is safe to run twice."""

from smtplib import SMTPException

from celery import shared_task

from .services import inventory, refunds, webhooks


@shared_task(acks_late=True, ignore_result=True)
def orders_expire_task() -> list[str]:
    """Release expired reservations and expire their unpaid orders (beat, every minute)."""
    return inventory.orders_expire_reservations()


@shared_task(acks_late=True, ignore_result=True, autoretry_for=(SMTPException, ConnectionError),
             retry_backoff=True, max_retries=5)
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


BEAT_SCHEDULE = {
    "shop-orders-expire": {
        "task": "shop.tasks.orders_expire_task", "schedule": 60.0, "options": {"expires": 55},
    },
    "shop-refunds-retry-pending": {
        "task": "shop.tasks.refunds_retry_pending_task", "schedule": 300.0, "options": {"expires": 290},
    },
    "shop-stripe-events-retry": {
        "task": "shop.tasks.stripe_events_retry_task", "schedule": 300.0, "options": {"expires": 290},
    },
}
