"""Stock by lot: lots received, reservations held for a reference, allocations taken at fulfilment."""

from django.db import models
from django.db.models import Q
from django.utils import timezone

from .products import Product

__all__ = ["StockLot", "StockReservation", "StockAllocation"]


class StockLot(models.Model):
    """A received lot of a product. Stock writes go through ``catalog.services.stock`` only."""

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="lots")
    lot_number = models.CharField(max_length=50)
    expiry_date = models.DateField()
    quantity_received = models.PositiveIntegerField()
    quantity_on_hand = models.PositiveIntegerField()
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["expiry_date", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "lot_number"], name="stocklot_unique_lot"),
            models.CheckConstraint(condition=Q(quantity_on_hand__gte=0), name="stocklot_on_hand_non_negative"),
            models.CheckConstraint(
                condition=Q(quantity_on_hand__lte=models.F("quantity_received")), name="stocklot_on_hand_le_received"
            ),
        ]
        indexes = [models.Index(fields=["product", "expiry_date"])]

    def __str__(self):
        return f"{self.product} lot {self.lot_number} (exp {self.expiry_date})"


class StockReservation(models.Model):
    """Units of a product held for a reference (an order) until ``expires_at``.

    Only ACTIVE reservations that have not expired count against availability, so stock held
    by an abandoned checkout comes back on time even if the clean-up task runs late.
    """

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        RELEASED = "released", "Released"
        CONSUMED = "consumed", "Consumed"

    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="reservations")
    reference = models.CharField(max_length=64, db_index=True)
    quantity = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Blank: held until released.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_quantity_positive"),
            models.UniqueConstraint(fields=["reference", "product"], name="reservation_unique_per_reference"),
        ]
        indexes = [models.Index(fields=["product", "status", "expires_at"])]

    def __str__(self):
        return f"{self.quantity} x {self.product_id} for {self.reference}"


class StockAllocation(models.Model):
    """Units taken out of a lot for a reference at fulfilment (first expiring, first out)."""

    lot = models.ForeignKey(StockLot, on_delete=models.PROTECT, related_name="allocations")
    reference = models.CharField(max_length=64, db_index=True)
    quantity = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="allocation_quantity_positive"),
            models.UniqueConstraint(fields=["reference", "lot"], name="allocation_unique_per_reference_lot"),
        ]

    def __str__(self):
        return f"{self.quantity} from lot {self.lot_id} for {self.reference}"
