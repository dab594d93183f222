"""Storefront pages of the shop app: cart, checkout, the card page and the shopper's orders.

Thin views: forms parse, ``shop.services`` decide, ``shop.selectors`` read. Errors from the
services (``core.errors``) become a message on the page, never a 500. The card page never
receives a card number: Stripe.js (or localstripe's stand-in) confirms a SetupIntent in the
browser, and ``static/js/checkout.js`` posts only the resulting payment method id to the API.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from catalog.models import Product
from catalog.services.stock import InsufficientStock
from core.errors import DomainError, NotFound

from . import selectors
from .forms import AddToCartForm, CancelOrderForm, CartLineForm, ShippingForm
from .models import CartLine
from .services import cart as cart_service
from .services import checkout as checkout_service
from .services import payments
from .services.orders import order_cancel, order_for_user
from .state import CANCELLABLE, PAYABLE, OrderStatus

STATUS_LABELS = dict(OrderStatus.choices)


def _first_error(form) -> str:
    for field, errors in form.errors.items():
        label = form.fields[field].label or field.replace("_", " ") if field in form.fields else ""
        return f"{str(label).capitalize()}: {errors[0]}" if label else errors[0]
    return "Please check the form."


@require_POST
def cart_item_add(request):
    """The product page's ``#add-to-cart`` form: add to the cart, or say how many are left."""
    form = AddToCartForm(request.POST)
    product = None
    if form.is_valid() or "product" not in form.errors:
        ndc = form.cleaned_data.get("product") if form.is_valid() else request.POST.get("product", "")
        product = Product.objects.active().filter(ndc=ndc).first()
    if product is None:
        messages.error(request, "That product is not sold here.")
        return redirect("catalog:product-list")
    back = product.get_absolute_url()
    if not form.is_valid():
        messages.error(request, f"Not added to your cart. {_first_error(form)}")
        return redirect(back)
    try:
        cart = cart_service.cart_for_request(request=request, create=True)
        cart_service.cart_add(cart=cart, product=product, quantity=form.cleaned_data["quantity"])
    except DomainError as exc:
        messages.error(request, f"Not added to your cart. {exc.message}")
        return redirect(back)
    quantity = form.cleaned_data["quantity"]
    messages.success(request, f"Added {quantity} × {product.name} to your cart.")
    return redirect("shop:cart")


def cart(request):
    priced = selectors.cart_priced(cart_service.cart_for_request(request=request, create=False))
    return render(request, "shop/cart.html", {"priced": priced})


def _own_line(request, pk) -> CartLine:
    cart = cart_service.cart_for_request(request=request, create=False)
    return get_object_or_404(CartLine.objects.select_related("product"), pk=pk, cart_id=getattr(cart, "pk", None))


@require_POST
def cart_item_update(request, pk):
    line = _own_line(request, pk)
    form = CartLineForm(request.POST)
    if not form.is_valid():
        messages.error(request, f"{line.product.name}: quantity not changed. {form.errors['quantity'][0]}")
        return redirect("shop:cart")
    try:
        cart_service.cart_line_update(line=line, quantity=form.cleaned_data["quantity"])
    except DomainError as exc:
        messages.error(request, f"{line.product.name}: quantity not changed. {exc.message}")
    else:
        messages.success(request, f"{line.product.name}: quantity changed to {line.quantity}.")
    return redirect("shop:cart")


@require_POST
def cart_item_remove(request, pk):
    line = _own_line(request, pk)
    name = line.product.name
    cart_service.cart_line_remove(line=line)
    messages.success(request, f"Removed {name} from your cart.")
    return redirect("shop:cart")


@login_required
@require_http_methods(["GET", "POST"])
def checkout(request):
    """Shipping address -> order (stock reserved) -> the order's card page."""
    priced = selectors.cart_priced(cart_service.cart_for_user(user=request.user, create=False))
    if not priced.lines:
        messages.info(request, "Your cart is empty; add something before checking out.")
        return redirect("shop:cart")
    form = ShippingForm(request.POST or None, initial={"email": request.user.email, "country": "US"})
    if request.method == "POST" and form.is_valid():
        try:
            # The card page asks for its own SetupIntent: none is created here.
            result = checkout_service.checkout_create(user=request.user, shipping=form.shipping(),
                                                      email=form.cleaned_data.get("email") or "",
                                                      with_setup_intent=False)
        except InsufficientStock as exc:
            messages.error(request, f"Your order was not placed. {exc.message}")
            return redirect("shop:cart")
        except DomainError as exc:
            messages.error(request, f"Your order was not placed. {exc.message}")
        else:
            return redirect("shop:order-pay", number=result.order.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "shop/checkout.html", {"form": form, "priced": priced}, status=status)


@login_required
def order_pay(request, number):
    """The card page: Stripe.js Elements confirm a SetupIntent; checkout.js calls the pay API."""
    order = get_object_or_404(selectors.order_detail_for_user(request.user), number=number)
    if order.status not in PAYABLE:
        messages.info(request, f"Order {order.number} is {order.get_status_display().lower()}; "
                               "there is nothing to pay.")
        return redirect("shop:order-detail", number=order.number)
    try:
        info = payments.order_setup_intent(user=request.user, number=order.number)
    except DomainError as exc:
        info, error = None, exc.message
    else:
        error = info.error
    config = {
        "number": order.number,
        "publishableKey": info.publishable_key if info else "",
        "setupClientSecret": (info.setup_intent_client_secret if info else None) or "",
        "payUrl": reverse("shop-api:order-pay", args=[order.number]),
        "statusUrl": reverse("shop-api:order-payment-status", args=[order.number]),
        "setupIntentUrl": reverse("shop-api:order-setup-intent", args=[order.number]),
        "orderUrl": reverse("shop:order-detail", args=[order.number]),
    }
    return render(request, "shop/order_pay.html", {
        "order": order, "payment": info, "payment_error": error, "checkout_config": config,
    })


@login_required
def order_list(request):
    return render(request, "shop/order_list.html", {"orders": selectors.orders_for_user(request.user)})


@login_required
def order_detail(request, number):
    order = get_object_or_404(selectors.order_detail_for_user(request.user), number=number)
    return render(request, "shop/order_detail.html", {
        "order": order, "payable": order.status in PAYABLE, "cancellable": order.status in CANCELLABLE,
        "rx_lines": [line for line in order.lines.all() if line.rx_required],
        "events": [(e, STATUS_LABELS.get(e.from_status, e.from_status), STATUS_LABELS.get(e.to_status, e.to_status))
                   for e in order.events.all()],
    })


@login_required
@require_POST
def order_cancel_view(request, number):
    try:
        order = order_for_user(user=request.user, number=number)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    form = CancelOrderForm(request.POST)
    reason = form.cleaned_data.get("reason", "") if form.is_valid() else ""
    try:
        order = order_cancel(order=order, actor=request.user, reason=reason or "Cancelled by the shopper.")
    except DomainError as exc:
        messages.error(request, f"Order {number} was not cancelled. {exc.message}")
    else:
        messages.success(request, f"Order {order.number} is cancelled."
                         + (" Your payment is being refunded." if order.refunds.exists() else ""))
    return redirect("shop:order-detail", number=number)
