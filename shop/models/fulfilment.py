"""Fulfilment records of the shop: which prescription covers an order line, the shipment and
its pick list, and the e-mails already sent for an order.

rx never imports the shop, so the link between an order line and a prescription lives here.
Unique constraints back the idempotency of the fulfilment task: one shipment per order, one
tracking number per shipment, one e-mail of each kind per order.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from .orders import Order, OrderLine

__all__ = ["OrderLinePrescription", "Shipment", "ShipmentLine", "OrderNotification"]


class OrderLinePrescription(models.Model):
    """The prescription the shopper linked to a prescription-required order line."""

    order_line = models.OneToOneField(OrderLine, on_delete=models.CASCADE, related_name="prescription_link")
    prescription = models.ForeignKey("rx.Prescription", on_delete=models.PROTECT, related_name="+")
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    linked_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order_line_id"]

    def __str__(self):
        return f"Line {self.order_line_id} -> Rx {self.prescription_id}"


class Shipment(models.Model):
    """The one parcel of an order: packed (pick list written), then shipped with a tracking number."""

    order = models.OneToOneField(Order, on_delete=models.PROTECT, related_name="shipment")
    carrier = models.CharField(max_length=50)
    tracking_number = models.CharField(max_length=64, unique=True, null=True, blank=True)
    packed_at = models.DateTimeField(default=timezone.now)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-packed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(shipped_at__isnull=True) | Q(tracking_number__isnull=False),
                name="shipment_shipped_has_tracking",
            )
        ]

    def __str__(self):
        return f"Shipment of {self.order_id} ({self.tracking_number or 'packed'})"


class ShipmentLine(models.Model):
    """One pick-list row: so many units of a product taken from one lot, for one order line."""

    shipment = models.ForeignKey(Shipment, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.PROTECT, related_name="+")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    lot = models.ForeignKey("catalog.StockLot", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()

    class Meta:
        ordering = ["shipment", "order_line", "id"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "order_line", "lot"], name="shipmentline_unique_lot"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="shipmentline_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} x {self.product_id} from lot {self.lot_id}"


class OrderNotification(models.Model):
    """An e-mail sent to the shopper about an order; the unique kind per order sends each once."""

    class Kind(models.TextChoices):
        CONFIRMED = "confirmed", "Order confirmed"
        SHIPPED = "shipped", "Shipped"
        DELIVERED = "delivered", "Delivered"
        STOCK_PROBLEM = "stock_problem", "Staff alert: stock problem at fulfilment"

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    sent_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["order", "sent_at"]
        constraints = [models.UniqueConstraint(fields=["order", "kind"], name="ordernotification_once_per_kind")]

    def __str__(self):
        return f"{self.order_id}: {self.kind}"
