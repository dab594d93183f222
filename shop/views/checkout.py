"""Storefront checkout: the shipping address page (order placed, stock reserved) and the card page.

The card page never receives a card number: Stripe.js (or localstripe's stand-in) confirms a
SetupIntent in the browser, and ``static/js/checkout.js`` posts only the resulting payment method
id to the API. Errors from the services (``core.errors``) become a message on the page.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from catalog.services.stock import InsufficientStock
from core.errors import DomainError, ServiceUnavailable

from .. import selectors
from ..forms import ShippingForm
from ..services import cart as cart_service
from ..services import checkout as checkout_service
from ..services import payments
from ..state import PAYABLE


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
            result = checkout_service.checkout_create(
                user=request.user,
                shipping=form.shipping(),
                email=form.cleaned_data.get("email") or "",
                with_setup_intent=False,
            )
        except InsufficientStock as exc:
            messages.error(request, f"Your order was not placed. {exc.message}")
            return redirect("shop:cart")
        except DomainError as exc:
            messages.error(request, f"Your order was not placed. {exc.message}")
            if isinstance(exc, ServiceUnavailable):  # the task queue is down: say so with a 503
                return render(request, "shop/checkout.html", {"form": form, "priced": priced}, status=503)
        else:
            return redirect("shop:order-pay", number=result.order.number)
    status = 400 if request.method == "POST" else 200
    return render(request, "shop/checkout.html", {"form": form, "priced": priced}, status=status)


@login_required
def order_pay(request, number):
    """The card page: Stripe.js Elements confirm a SetupIntent; checkout.js calls the pay API."""
    order = get_object_or_404(selectors.order_detail_for_user(request.user), number=number)
    if order.status not in PAYABLE:
        messages.info(
            request, f"Order {order.number} is {order.get_status_display().lower()}; there is nothing to pay."
        )
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
    return render(
        request,
        "shop/order_pay.html",
        {"order": order, "payment": info, "payment_error": error, "checkout_config": config},
    )
