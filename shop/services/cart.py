"""Carts: one per signed-in user, one per anonymous session, merged at sign-in.

Lines hold a product and a quantity only; prices are always quoted from the product's
current tiers at the line's quantity (``shop.selectors.cart_priced``), so changing a quantity
reprices the line and checkout freezes whatever the tiers say at that moment. A quantity
above what is available now is refused with 409 saying how many are left. Nothing is
reserved before checkout.

An anonymous cart is found through a token kept in the session data (``SESSION_KEY``), not
through the session key: Django changes the key at sign-in but keeps the data. Merging it into
the account's cart never lifts a line past ``MAX_QUANTITY`` (the cap of ``cart_add``): the line is
held at the cap and reported, and the sign-in tells the shopper (``shop.receivers``).
"""

import uuid
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, overload

from django.db import transaction

from catalog.models import Product
from catalog.services.quotes import product_quote
from catalog.services.stock import InsufficientStock, ShortLine, stock_available
from core.errors import Conflict, DomainError

from ..models import Cart, CartLine

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.contrib.sessions.backends.base import SessionBase
    from django.http import HttpRequest
    from rest_framework.request import Request

SESSION_KEY = "shop_cart_token"
MAX_QUANTITY = 10_000


class QuantityUnavailable(InsufficientStock):
    """The line would hold more than is available; the message and ``available`` say how many are left."""

    def __init__(self, *, product: Product, requested: int, available: int):
        super().__init__([ShortLine(product.pk, product.ndc, product.name, requested, available)])
        if available <= 0:
            self.message = f"{product.name} is out of stock."
        else:
            self.message = f"Only {available} of {product.name} left; your cart would hold {requested}."
        self.data.update({"product": product.ndc, "available": max(available, 0), "requested": requested})


class ClinicOnlyProduct(DomainError):
    """The product is sold to clinics only, through their own flow (an intrathecal refill kit)."""

    code = "clinic_only_product"


def product_check_sold_to_shoppers(*, product: Product) -> None:
    """Refuse (400, naming the product) what a shopper may not buy: a refill kit (``Product.is_refill_kit``).

    Intrathecal refill kits go to clinics only, through the kit flow (which calls
    ``checkout.order_place`` directly); the cart, its page and checkout ask this.
    """
    if product.is_refill_kit:
        raise ClinicOnlyProduct(
            f"product: {product.name} (NDC {product.ndc}) is an intrathecal pump refill kit, sold to clinics "
            "only through their kit orders; it cannot be bought in the shop.",
            data={"product": product.ndc},
        )


def _check_quantity(quantity: object) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int) or not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError(f"quantity: must be a whole number from 1 to {MAX_QUANTITY}.")
    return quantity


def _check_sellable(product: Product, quantity: int) -> None:
    product_check_sold_to_shoppers(product=product)
    if not product.is_active:
        raise Conflict(f"{product.name} is no longer sold.", code="product_unavailable")
    try:
        product_quote(product=product, quantity=quantity, with_availability=False)
    except DomainError as exc:  # no valid price schedule (NoPrice), checked as checkout checks it
        raise Conflict(f"{product.name} has no price for this quantity.", code="product_unavailable") from exc
    available = stock_available(product_ids=[product.pk])[product.pk]
    if quantity > available:
        raise QuantityUnavailable(product=product, requested=quantity, available=available)


@overload
def cart_for_user(*, user: "User", create: Literal[True] = True) -> Cart: ...
@overload
def cart_for_user(*, user: "User", create: bool) -> Cart | None: ...


def cart_for_user(*, user: "User", create: bool = True) -> Cart | None:
    if create:
        cart, _ = Cart.objects.get_or_create(user=user)
        return cart
    return Cart.objects.filter(user=user).first()


def cart_for_session(*, session: "SessionBase", create: bool = True) -> Cart | None:
    """The anonymous cart of a session (``request.session``); created and remembered when asked."""
    token = session.get(SESSION_KEY)
    cart = None
    if token:
        try:
            cart = Cart.objects.filter(anonymous_token=uuid.UUID(str(token)), user__isnull=True).first()
        except ValueError:
            cart = None
    if cart is None and create:
        cart = Cart.objects.create()
        session[SESSION_KEY] = str(cart.anonymous_token)
    return cart


def cart_for_request(*, request: "HttpRequest | Request", create: bool = True) -> Cart | None:
    """The cart of whoever makes the request: the user's when signed in, else the session's."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return cart_for_user(user=user, create=create)
    return cart_for_session(session=request.session, create=create)


def cart_add(*, cart: Cart, product: Product, quantity: int) -> CartLine:
    """Add ``quantity`` units of ``product`` (to the existing line, if any)."""
    _check_quantity(quantity)
    with transaction.atomic():
        Cart.objects.select_for_update().filter(pk=cart.pk).first()
        line = CartLine.objects.filter(cart=cart, product=product).first()
        new_quantity = (line.quantity if line else 0) + quantity
        _check_quantity(new_quantity)
        _check_sellable(product, new_quantity)
        if line:
            line.quantity = new_quantity
            line.save(update_fields=["quantity", "updated_at"])
        else:
            line = CartLine.objects.create(cart=cart, product=product, quantity=new_quantity)
        Cart.objects.filter(pk=cart.pk).update(updated_at=line.updated_at)
    return line


def cart_line_update(*, line: CartLine, quantity: int) -> CartLine:
    """Set a line's quantity (it is then priced at the tier for that quantity)."""
    _check_quantity(quantity)
    with transaction.atomic():
        Cart.objects.select_for_update().filter(pk=line.cart_id).first()
        _check_sellable(line.product, quantity)
        line.quantity = quantity
        line.save(update_fields=["quantity", "updated_at"])
    return line


def cart_line_remove(*, line: CartLine) -> None:
    line.delete()


def cart_clear(*, cart: Cart) -> None:
    cart.lines.all().delete()


@dataclass(frozen=True)
class CappedLine:
    """A line merging would have lifted past ``MAX_QUANTITY``: it holds ``MAX_QUANTITY``, not ``combined``."""

    product: Product
    combined: int


@dataclass(frozen=True)
class CartMerge:
    """The cart lines were merged into (None when there was nothing to merge and the user has no cart),
    and the lines held at ``MAX_QUANTITY`` rather than the sum of both carts."""

    cart: Cart | None
    capped: list[CappedLine] = field(default_factory=list)


def cart_merge(*, source: Cart, target: Cart) -> CartMerge:
    """Move every line of ``source`` into ``target`` (quantities add up), then delete ``source``.

    A line never holds more than ``MAX_QUANTITY`` (the cap of ``cart_add``): a sum above it is held at
    the cap and reported in ``CartMerge.capped``, so the shopper can be told. Availability is not
    checked here (signing in must not fail); checkout checks it.
    """
    if source.pk == target.pk:
        return CartMerge(cart=target)
    capped: list[CappedLine] = []
    with transaction.atomic():
        list(Cart.objects.select_for_update().filter(pk__in=[source.pk, target.pk]).order_by("pk"))
        held = {line.product_id: line for line in CartLine.objects.filter(cart=target)}
        for line in CartLine.objects.filter(cart=source).select_related("product").order_by("pk"):
            existing = held.get(line.product_id)
            combined = line.quantity + (existing.quantity if existing else 0)
            if combined > MAX_QUANTITY:
                capped.append(CappedLine(product=line.product, combined=combined))
            if existing is None:
                CartLine.objects.create(cart=target, product_id=line.product_id, quantity=min(combined, MAX_QUANTITY))
            else:
                existing.quantity = min(combined, MAX_QUANTITY)
                existing.save(update_fields=["quantity", "updated_at"])
        source.delete()
    return CartMerge(cart=target, capped=capped)


def cart_merge_session_into_user(*, session: "SessionBase", user: "User") -> CartMerge:
    """At sign-in: merge the session's anonymous cart into the user's cart (``cart_merge``)."""
    anonymous = cart_for_session(session=session, create=False)
    session.pop(SESSION_KEY, None)
    if anonymous is None or not anonymous.lines.exists():
        if anonymous is not None:
            anonymous.delete()
        return CartMerge(cart=cart_for_user(user=user, create=False))
    return cart_merge(source=anonymous, target=cart_for_user(user=user))
