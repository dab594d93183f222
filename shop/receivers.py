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
