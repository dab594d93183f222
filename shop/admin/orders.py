"""Back office for orders: read-only history, and actions that call the shop's services.

Order actions: cancel (refund through Stripe + release stock), fulfil and ship, mark delivered, and
a per-line partial refund form (``/admin/shop/order/<id>/refund/``). (Receiving stock is catalog's:
the product admin's "Receive a lot" page.)
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from core.errors import DomainError

from ..carriers import CarrierUnavailable
from ..models import Order, OrderEvent, OrderLine, Payment, Refund
from ..services import fulfilment, orders, refunds
from ..state import OrderStatus
from .read_only import ReadOnlyInline


class OrderLineInline(ReadOnlyInline):
    model = OrderLine
    fields = readonly_fields = [
        "product_name",
        "ndc",
        "rx_required",
        "unit_price",
        "quantity",
        "line_total",
        "refunded_amount",
    ]


class OrderEventInline(ReadOnlyInline):
    model = OrderEvent
    fields = readonly_fields = ["created_at", "from_status", "to_status", "actor_label", "reason"]


class PaymentInline(ReadOnlyInline):
    model = Payment
    fields = readonly_fields = [
        "attempt",
        "stripe_payment_intent_id",
        "status",
        "amount_cents",
        "currency",
        "last_error",
        "created_at",
    ]


class RefundInline(ReadOnlyInline):
    model = Refund
    fields = readonly_fields = [
        "created_at",
        "order_line",
        "amount",
        "status",
        "stripe_refund_id",
        "reason",
        "error",
        "created_by",
    ]


class LineRefundForm(forms.Form):
    line = forms.ModelChoiceField(queryset=OrderLine.objects.none(), help_text="The line to refund.")
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=Decimal("0.01"),
        required=False,
        help_text="Blank: everything left on the line.",
    )
    reason = forms.CharField(max_length=500, required=False)

    def __init__(self, *args, order: Order, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["line"].queryset = order.lines.all()
        self.fields["line"].label_from_instance = lambda line: (
            f"{line.product_name} x {line.quantity}: {line.line_total} ({line.refundable_amount} left)"
        )


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "user", "status", "total", "currency", "created_at", "reservation_expires_at"]
    list_filter = ["status", "created_at"]
    search_fields = ["number", "user__username", "user__email", "shipping_name", "lines__ndc"]
    date_hierarchy = "created_at"
    inlines = [OrderLineInline, PaymentInline, RefundInline, OrderEventInline]
    readonly_fields = [
        "number",
        "user",
        "status",
        "currency",
        "subtotal",
        "total",
        "reservation_expires_at",
        "payment_attempts",
        "created_at",
        "updated_at",
        "refund_link",
        "email",
        "shipping_name",
        "shipping_line1",
        "shipping_line2",
        "shipping_city",
        "shipping_state",
        "shipping_postal_code",
        "shipping_country",
        "shipping_phone",
    ]
    actions = ["cancel_orders", "mark_shipped", "mark_delivered"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="Refunds")
    def refund_link(self, obj):
        if obj.pk is None:
            return "-"
        return format_html('<a href="{}">Refund part of a line…</a>', reverse("admin:shop_order_refund", args=[obj.pk]))

    def get_urls(self):
        return [
            path("<int:order_id>/refund/", self.admin_site.admin_view(self.refund_view), name="shop_order_refund")
        ] + super().get_urls()

    def _run(self, request, queryset, action, done: str):
        ok = 0
        for order in queryset.order_by("pk"):
            try:
                action(order=order, actor=request.user)
                ok += 1
            except DomainError as exc:
                self.message_user(request, f"{order.number}: {exc.message}", messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} order(s) {done}.", messages.SUCCESS)

    @admin.action(description="Cancel (refund through Stripe and release stock)", permissions=["change"])
    def cancel_orders(self, request, queryset):
        self._run(
            request,
            queryset,
            lambda order, actor: orders.order_cancel(order=order, actor=actor, reason="Cancelled by staff."),
            "cancelled",
        )

    @admin.action(
        description="Fulfil and ship (allocate stock, record dispenses, pack, book carrier)", permissions=["change"]
    )
    def mark_shipped(self, request, queryset):
        """Ship through the fulfilment pipeline (``order_fulfil``), never by a bare status change."""
        ok = 0
        for order in queryset.order_by("pk"):
            if order.status not in (OrderStatus.READY_TO_FULFIL, OrderStatus.FULFILLING):
                self.message_user(
                    request,
                    f"{order.number}: the order is {order.get_status_display().lower()}; "
                    "only orders ready to fulfil or fulfilling can be shipped.",
                    messages.ERROR,
                )
                continue
            try:
                result = fulfilment.order_fulfil(order_id=order.pk)
            except (DomainError, CarrierUnavailable) as exc:
                self.message_user(request, f"{order.number}: {getattr(exc, 'message', exc)}", messages.ERROR)
                continue
            if result == OrderStatus.SHIPPED:
                ok += 1
            else:
                self.message_user(request, f"{order.number}: not shipped; the order is {result}.", messages.ERROR)
        if ok:
            self.message_user(request, f"{ok} order(s) shipped.", messages.SUCCESS)

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._run(request, queryset, orders.order_mark_delivered, "marked delivered")

    def refund_view(self, request, order_id):
        order = get_object_or_404(Order, pk=order_id)
        if not self.has_change_permission(request, order):
            raise PermissionDenied
        form = LineRefundForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                refund = refunds.order_refund_line(
                    order=order,
                    line_id=form.cleaned_data["line"].pk,
                    amount=form.cleaned_data["amount"],
                    actor=request.user,
                    reason=form.cleaned_data["reason"],
                )
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                level = messages.SUCCESS if refund.status == Refund.Status.SUCCEEDED else messages.WARNING
                self.message_user(request, f"Refund of {refund.amount}: {refund.get_status_display()}.", level)
                return redirect("admin:shop_order_change", order.pk)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "order": order,
            "form": form,
            "title": f"Refund part of order {order.number}",
        }
        return TemplateResponse(request, "admin/shop/order/refund.html", context)


@admin.register(OrderLine)
class OrderLineAdmin(admin.ModelAdmin):
    """Lines across orders; the action refunds what is left of each selected line."""

    list_display = ["order", "product_name", "ndc", "quantity", "unit_price", "line_total", "refunded_amount"]
    search_fields = ["order__number", "ndc", "product_name"]
    readonly_fields = [f.name for f in OrderLine._meta.fields]
    actions = ["refund_lines"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description="Refund what is left of the selected lines", permissions=["change"])
    def refund_lines(self, request, queryset):
        for line in queryset.select_related("order").order_by("pk"):
            try:
                refund = refunds.order_refund_line(
                    order=line.order, line_id=line.pk, actor=request.user, reason="Refunded by staff."
                )
                self.message_user(
                    request,
                    f"{line.order.number} {line.product_name}: refund of {refund.amount} "
                    f"{refund.get_status_display().lower()}.",
                )
            except DomainError as exc:
                self.message_user(request, f"{line.order.number} {line.product_name}: {exc.message}", messages.ERROR)
