"""Checkout: turn the user's cart into an order with frozen prices and reserved stock.

One transaction creates the order, its lines (name, NDC, prescription flag and tier price as
they are now), the creation event, and the stock hold
``stock_reserve(reference="order:<number>", ttl=settings.RESERVATION_TTL)``, and empties the
cart. When any line is short, nothing is saved and the 409 lists every short line. Only after
the commit is Stripe asked for a SetupIntent (no lock or transaction is held during the call).
"""

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.models import Product
from catalog.services.quotes import product_quote
from catalog.services.stock import stock_reserve
from core.errors import Conflict, DomainError
from core.outages import broker_check

from ..models import CartLine, Order, OrderEvent, OrderLine
from ..state import INITIAL
from .cart import cart_for_user, product_check_sold_to_shoppers
from .payments import PaymentInfo, payment_info_for
from .transitions import actor_fields

if TYPE_CHECKING:
    from django.contrib.auth.models import User

NUMBER_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read over the phone
SHIPPING_FIELDS = ("name", "line1", "line2", "city", "state", "postal_code", "country", "phone")


class EmptyCart(DomainError):
    code = "empty_cart"


@dataclass(frozen=True)
class CheckoutResult:
    order: Order
    payment: PaymentInfo


def order_number_new() -> str:
    return "PH-" + "".join(secrets.choice(NUMBER_ALPHABET) for _ in range(8))


def checkout_create(
    *, user: "User", shipping: dict[str, Any], email: str = "", with_setup_intent: bool = True
) -> CheckoutResult:
    """Create the order from ``user``'s cart and reserve its stock; return it with payment details.

    ``shipping`` has the keys of ``SHIPPING_FIELDS`` (``line2`` and ``phone`` optional,
    ``country`` defaults to US). Raises EmptyCart (400), ClinicOnlyProduct (400) for a refill kit
    (sold to clinics only, through the kit flow), InsufficientStock (409) or Conflict (409) for a
    product that is no longer sold or priced; ServiceUnavailable (503) while the task queue is down
    (the paid order could not be handed on), before anything is written.
    """
    missing = [f for f in ("name", "line1", "city", "state", "postal_code") if not str(shipping.get(f, "")).strip()]
    if missing:
        raise DomainError(f"shipping_{missing[0]}: this field is required.")
    broker_check()
    cart = cart_for_user(user=user, create=False)
    with transaction.atomic():
        lines = (
            list(
                CartLine.objects.select_for_update(of=("self",))
                .filter(cart=cart)
                .select_related("product")
                .prefetch_related("product__price_tiers")
                .order_by("pk")
            )
            if cart
            else []
        )
        if not lines:
            raise EmptyCart("cart: your cart is empty; add something before checking out.")
        for line in lines:
            product_check_sold_to_shoppers(product=line.product)
        order = order_place(
            user=user,
            email=email or getattr(user, "email", "") or "",
            lines=[(line.product, line.quantity) for line in lines],
            shipping=shipping,
            ttl=settings.RESERVATION_TTL,
            unpriced_hint="remove it from your cart",
        )
        CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()
    return CheckoutResult(order=order, payment=payment_info_for(order=order, with_setup_intent=with_setup_intent))


def order_place(
    *,
    user: "User",
    email: str,
    lines: list[tuple[Product, int]],
    shipping: dict[str, Any],
    ttl: timedelta | None,
    reason: str = "",
    unpriced_hint: str = "it cannot be ordered yet",
    scheduled_dispatch: bool = False,
    created_at: datetime | None = None,
) -> Order:
    """Create an order with frozen tier prices and reserved stock, and its creation event. Call in a transaction.

    ``lines`` are (product, quantity) pairs; ``ttl`` is how long the stock is held (None: until the
    order is fulfilled or cancelled). ``scheduled_dispatch`` marks an order that another flow fulfils
    on its own day (a refill kit on its ship-by day) instead of as soon as it is ready. Raises
    Conflict (409) for a product that is no longer sold or cannot be priced (``unpriced_hint`` ends
    the message) and InsufficientStock (409) listing every short line.
    """
    frozen = _lines_frozen(lines=lines, unpriced_hint=unpriced_hint)
    order = _order_create(
        user=user,
        email=email,
        frozen=frozen,
        shipping=shipping,
        scheduled_dispatch=scheduled_dispatch,
        created_at=created_at,
    )
    _stock_reserve_and_record(order=order, frozen=frozen, user=user, ttl=ttl, reason=reason, created_at=created_at)
    return order


def _lines_frozen(*, lines: list[tuple[Product, int]], unpriced_hint: str) -> list[OrderLine]:
    """The unsaved order lines with each product's name, NDC, prescription flag and tier price as they are now."""
    frozen = []
    for product, quantity in lines:
        if not product.is_active:
            raise Conflict(
                f"{product.name} is no longer sold; {unpriced_hint}.",
                code="product_unavailable",
                data={"product": product.ndc},
            )
        try:
            quote = product_quote(product=product, quantity=quantity, with_availability=False)
        except DomainError as exc:
            raise Conflict(
                f"{product.name} cannot be priced; {unpriced_hint}.",
                code="product_unavailable",
                data={"product": product.ndc},
            ) from exc
        frozen.append(
            OrderLine(
                product=product,
                product_name=product.name,
                ndc=product.ndc,
                rx_required=product.rx_required,
                unit_price=quote.unit_price,
                quantity=quantity,
                line_total=quote.total,
            )
        )
    return frozen


def _order_create(
    *,
    user: "User",
    email: str,
    frozen: list[OrderLine],
    shipping: dict[str, Any],
    scheduled_dispatch: bool,
    created_at: datetime | None,
) -> Order:
    """Save the order (totals from the frozen lines, the shipping address) and its lines."""
    subtotal = sum((line.line_total for line in frozen), Decimal("0.00"))
    fields: dict[str, object] = {
        f"shipping_{f}": str(shipping.get(f) or "").strip() for f in SHIPPING_FIELDS if f != "country"
    }
    fields["shipping_country"] = str(shipping.get("country") or "US").strip().upper()
    if created_at is not None:
        fields["created_at"] = created_at
    order = _order_with_new_number(
        user=user,
        email=email,
        currency=settings.STRIPE_CURRENCY,
        subtotal=subtotal,
        total=subtotal,
        scheduled_dispatch=scheduled_dispatch,
        **fields,
    )
    for line in frozen:
        line.order = order
    OrderLine.objects.bulk_create(frozen)
    return order


def _stock_reserve_and_record(
    *,
    order: Order,
    frozen: list[OrderLine],
    user: "User",
    ttl: timedelta | None,
    reason: str,
    created_at: datetime | None,
) -> None:
    """Hold the order's stock (until ``ttl`` runs out, if any) and record its creation event."""
    held = stock_reserve(
        reference=order.stock_reference, lines=[(line.product_id, line.quantity) for line in frozen], ttl=ttl
    )
    if ttl is not None:
        order.reservation_expires_at = min(cast(datetime, h.expires_at) for h in held)  # a ttl: every hold expires
        order.save(update_fields=["reservation_expires_at", "updated_at"])
        reason = reason or (
            f"Checked out; stock reserved until {timezone.localtime(order.reservation_expires_at):%Y-%m-%d %H:%M %Z}."
        )
    actor, label = actor_fields(user)
    OrderEvent.objects.create(
        order=order,
        from_status="",
        to_status=INITIAL,
        actor=actor,
        actor_label=label,
        reason=reason,
        **({"created_at": created_at} if created_at else {}),
    )


def _order_with_new_number(**fields: Any) -> Order:
    for _ in range(5):
        number = order_number_new()
        try:
            with transaction.atomic():
                return Order.objects.create(number=number, **fields)
        except IntegrityError:
            if not Order.objects.filter(number=number).exists():
                raise
            # the random number was taken: draw again
    raise Conflict("Could not allocate an order number; please try again.", code="order_number_exhausted")
