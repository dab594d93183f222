"""Back office for Stripe's records: events, payments, refunds and payment discrepancies, read-only."""

from django.contrib import admin

from ..models import Payment, PaymentDiscrepancy, Refund, StripeEvent
from .read_only import ReadOnlyAdmin


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "received_at", "processed_at", "result"]
    list_filter = ["type", "processed_at"]
    search_fields = ["event_id", "result"]


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["order", "attempt", "stripe_payment_intent_id", "status", "amount_cents", "created_at"]
    list_filter = ["status"]
    search_fields = ["order__number", "stripe_payment_intent_id"]


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    list_display = ["order", "order_line", "amount", "status", "stripe_refund_id", "created_at", "created_by"]
    list_filter = ["status"]
    search_fields = ["order__number", "stripe_refund_id"]


@admin.register(PaymentDiscrepancy)
class PaymentDiscrepancyAdmin(ReadOnlyAdmin):
    """Stripe payments that did not match their order, left unapplied for staff (read-only)."""

    list_display = ["created_at", "order", "kind", "expected", "received", "stripe_payment_intent_id", "event_id"]
    list_filter = ["kind"]
    search_fields = ["order__number", "stripe_payment_intent_id", "event_id"]
    list_select_related = ["order"]
