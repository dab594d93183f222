"""Carts, orders and their events, payments, Stripe events, payment discrepancies and refunds.

``Order.status`` is changed only by ``shop.services.transitions.order_transition`` (the allowed moves
are declared in ``shop.state``). Stock is never touched here: orders hold units through
``catalog.services.stock`` under the reference ``order:<number>``.
"""

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from catalog import pricing
from catalog.models import Product
from core.models import ShippingAddress

from ..state import OrderStatus

ZERO = Decimal("0.00")

__all__ = [
    "Cart",
    "CartLine",
    "Order",
    "OrderLine",
    "OrderEvent",
    "Payment",
    "StripeEvent",
    "PaymentDiscrepancy",
    "Refund",
]


class Cart(models.Model):
    """One shopper's cart: a signed-in user's, or an anonymous session's.

    An anonymous cart is found through ``anonymous_token``, which the session stores: Django
    changes the session key at sign-in but keeps the session data, so the cart can be found
    and merged into the account's cart then.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="cart"
    )
    anonymous_token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self):
        return f"Cart of {self.user}" if self.user_id else f"Anonymous cart {self.pk}"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cartline_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="cartline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product}"


class Order(ShippingAddress):
    Status = OrderStatus

    number = models.CharField(max_length=11, unique=True, editable=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders")
    status = models.CharField(
        max_length=32, choices=OrderStatus.choices, default=OrderStatus.PENDING_PAYMENT, db_index=True, editable=False
    )
    email = models.EmailField(blank=True)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    reservation_expires_at = models.DateTimeField(
        null=True, blank=True, help_text="Unpaid orders expire (and free their stock) at this time."
    )
    payment_attempts = models.PositiveIntegerField(default=0, editable=False)
    scheduled_dispatch = models.BooleanField(
        default=False,
        editable=False,
        help_text="Fulfilled on a day another flow chooses (a refill kit on its ship-by day), not as soon as ready.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(number__regex=r"^PH-[0-9A-Z]{8}$"), name="order_number_format"),
            models.CheckConstraint(condition=Q(subtotal__gte=0), name="order_subtotal_non_negative"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
            models.CheckConstraint(condition=Q(status__in=OrderStatus.values), name="order_status_known"),
        ]
        indexes = [
            models.Index(fields=["user", "-created_at"]),
            models.Index(fields=["status", "reservation_expires_at"]),
        ]

    def __str__(self):
        return self.number

    def get_absolute_url(self):
        return reverse("shop-api:order-detail", kwargs={"number": self.number})

    @property
    def stock_reference(self) -> str:
        """The reference under which catalog.services.stock holds this order's units."""
        return f"order:{self.number}"

    @property
    def total_cents(self) -> int:
        return pricing.to_cents(self.total)

    @property
    def shipping_address(self) -> dict:
        return {
            f: getattr(self, f"shipping_{f}")
            for f in ("name", "line1", "line2", "city", "state", "postal_code", "country", "phone")
        }


class OrderLine(models.Model):
    """A line as sold: the product's name, NDC and price are frozen at checkout."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(max_length=200)
    ndc = models.CharField(max_length=11)
    rx_required = models.BooleanField("prescription required")
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2)
    refunded_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, editable=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["order", "product"], name="orderline_unique_product"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="orderline_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gte=0), name="orderline_unit_price_non_negative"),
            models.CheckConstraint(condition=Q(line_total__gte=0), name="orderline_total_non_negative"),
            models.CheckConstraint(condition=Q(refunded_amount__gte=0), name="orderline_refunded_non_negative"),
            models.CheckConstraint(
                condition=Q(refunded_amount__lte=F("line_total")), name="orderline_refunded_le_total"
            ),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_name}"

    @property
    def refundable_amount(self) -> Decimal:
        return self.line_total - self.refunded_amount


class OrderEvent(models.Model):
    """One status change of an order: from, to, who or what, when and why. Never edited."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=32, blank=True, help_text="Blank for the order's creation.")
    to_status = models.CharField(max_length=32)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(max_length=100, help_text='Who or what: a username, "stripe webhook", "system".')
    reason = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"


class Payment(models.Model):
    """One attempt to pay an order: a Stripe PaymentIntent (its client secret is never stored)."""

    class Status(models.TextChoices):
        CREATING = "creating", "Creating (request to Stripe in flight)"
        UNKNOWN = "unknown", "Unknown (Stripe could not be reached)"
        REQUIRES_ACTION = "requires_action", "Requires action (3-D Secure)"
        PROCESSING = "processing", "Processing"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELED = "canceled", "Canceled"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payments")
    attempt = models.PositiveIntegerField()
    idempotency_key = models.CharField(max_length=100, unique=True)
    stripe_payment_intent_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    payment_method = models.CharField(max_length=255, blank=True)
    amount_cents = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATING)
    last_error = models.TextField(blank=True)
    # True for the one payment that moved the order to paid; any other success is refunded.
    paid_the_order = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["order", "attempt"]
        constraints = [
            models.UniqueConstraint(fields=["order", "attempt"], name="payment_unique_attempt"),
            models.CheckConstraint(condition=Q(amount_cents__gt=0), name="payment_amount_positive"),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="payment_attempt_positive"),
            models.UniqueConstraint(
                fields=["order"], condition=Q(paid_the_order=True), name="payment_one_per_paid_order"
            ),
        ]

    def __str__(self):
        return f"{self.order_id} attempt {self.attempt}: {self.status}"


class StripeEvent(models.Model):
    """A webhook event received from Stripe; the unique id makes a second delivery a no-op."""

    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    result = models.TextField(blank=True, help_text="What the event did to our records.")

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class PaymentDiscrepancy(models.Model):
    """A Stripe payment that did not match its order (wrong amount or currency, nothing paid, or
    an intent that is another order's): recorded instead of applied, for staff to look into.
    Written by ``shop.services.payment_discrepancies``; one row per webhook event."""

    class Kind(models.TextChoices):
        ZERO_AMOUNT = "zero_amount", "Nothing was paid (amount 0)"
        CURRENCY = "currency", "Another currency than the order's"
        AMOUNT = "amount", "Another amount than the order's total"
        OTHER_ORDER = "other_order", "The intent is another order's payment"

    event_id = models.CharField(max_length=255, unique=True, help_text="The Stripe event that reported it.")
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="payment_discrepancies")
    stripe_payment_intent_id = models.CharField(max_length=255)
    kind = models.CharField(max_length=20, choices=Kind.choices)
    expected = models.CharField(max_length=255, help_text="What our records say.")
    received = models.CharField(max_length=255, help_text="What Stripe's event said.")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.get_kind_display()}: order {self.order_id}, {self.stripe_payment_intent_id}"


class Refund(models.Model):
    """Money given back through Stripe, for a whole order or for one line."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (being sent to Stripe)"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    stripe_refund_id = models.CharField(max_length=255, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    reason = models.TextField(blank=True)
    error = models.TextField(blank=True)
    # Bumped by a conditional UPDATE before each call to Stripe, so two senders never both send.
    send_attempts = models.PositiveIntegerField(default=0, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at", "id"]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive")]

    def __str__(self):
        return f"Refund {self.amount} of {self.order_id} ({self.status})"
