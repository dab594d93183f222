"""Storefront order pages: the shopper's own orders, one order with its history, cancelling it."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core.errors import DomainError, NotFound

from .. import selectors
from ..access import order_for_user
from ..forms import CancelOrderForm
from ..services.orders import order_cancel
from ..state import CANCELLABLE, PAYABLE, OrderStatus

STATUS_LABELS = dict(OrderStatus.choices)


@login_required
def order_list(request):
    return render(request, "shop/order_list.html", {"orders": selectors.orders_for_user(request.user)})


@login_required
def order_detail(request, number):
    order = get_object_or_404(selectors.order_detail_for_user(request.user), number=number)
    return render(
        request,
        "shop/order_detail.html",
        {
            "order": order,
            "payable": order.status in PAYABLE,
            "cancellable": order.status in CANCELLABLE,
            "rx_lines": [line for line in order.lines.all() if line.rx_required],
            "events": [
                (e, STATUS_LABELS.get(e.from_status, e.from_status), STATUS_LABELS.get(e.to_status, e.to_status))
                for e in order.events.all()
            ],
        },
    )


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
        messages.success(
            request,
            f"Order {order.number} is cancelled."
            + (" Your payment is being refunded." if order.refunds.exists() else ""),
        )
    return redirect("shop:order-detail", number=number)
