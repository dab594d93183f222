"""Intrathecal pump refill kits: kit orders, standing orders and the alerts that escalate.

A ``KitOrder`` is one kit for one pump and one refill cycle (the pump's ``current_refill`` when the
order was made). It owns a shop ``Order`` (payment, stock hold under ``order.stock_reference``,
prescription gating and fulfilment all go the shop's usual way); the kit order itself only tracks
the dispatch: ``scheduled`` -> ``dispatched`` | ``failed`` (a failed one is retried) | ``cancelled``.
The unique (pump, refill cycle) constraint makes a second scan or a second click a no-op.

Writes happen only in ``pumps.services.kits`` (one module per step: orders, gating, cancel, scan,
dispatch, alerts).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from core.models import ShippingAddress

__all__ = ["KitOrder", "StandingOrder", "KitAlert", "KitAlertEscalation"]


class StandingOrder(ShippingAddress):
    """A clinic's standing instruction: order a kit for this pump before every refill, by itself.

    The shipping address is where the kits go (copied onto each order)."""

    clinic = models.ForeignKey("rx.Clinic", on_delete=models.PROTECT, related_name="kit_standing_orders")
    pump = models.OneToOneField("pumps.Pump", on_delete=models.PROTECT, related_name="kit_standing_order")
    product = models.ForeignKey(
        "catalog.Product",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        limit_choices_to={"is_refill_kit": True},
        help_text="Blank: the active refill kit at the pump's current concentration.",
    )
    active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Kit orders made by the standing order are placed in this user's name (invoiced to the clinic).",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shop_standingorder"  # the table it had in shop (moved app, same data)
        ordering = ["clinic", "pump"]

    def __str__(self):
        return f"Standing kit order for pump {self.pump_id} ({'active' if self.active else 'paused'})"

    @property
    def shipping(self) -> dict:
        return {
            f: getattr(self, f"shipping_{f}")
            for f in ("name", "line1", "line2", "city", "state", "postal_code", "country", "phone")
        }


class KitOrder(models.Model):
    """One refill kit for one pump and refill cycle, and its dispatch."""

    class Status(models.TextChoices):
        SCHEDULED = "scheduled", "Scheduled"
        DISPATCHED = "dispatched", "Dispatched"
        FAILED = "failed", "Failed (retried)"
        CANCELLED = "cancelled", "Cancelled"

    class Source(models.TextChoices):
        CLINIC = "clinic", "Ordered by the clinic"
        STANDING = "standing", "Standing order"

    # Still to ship: scheduled, or failed and retried by every dispatch run.
    PENDING = (Status.SCHEDULED, Status.FAILED)

    pump = models.ForeignKey("pumps.Pump", on_delete=models.PROTECT, related_name="kit_orders")
    patient = models.ForeignKey("rx.Patient", on_delete=models.PROTECT, related_name="kit_orders")
    clinic = models.ForeignKey("rx.Clinic", on_delete=models.PROTECT, related_name="kit_orders")
    refill = models.ForeignKey(
        "pumps.PumpRefill",
        on_delete=models.PROTECT,
        related_name="kit_orders",
        help_text="The refill cycle the kit is for (the pump's current refill when the order was made).",
    )
    appointment = models.ForeignKey(
        "pumps.RefillAppointment", on_delete=models.SET_NULL, null=True, blank=True, related_name="kit_orders"
    )
    order = models.OneToOneField(
        "shop.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="kit_order",
        help_text="Blank while no stock could be reserved (retried by every dispatch run, alerted).",
    )
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=10, choices=Source.choices)
    standing_order = models.ForeignKey(
        StandingOrder, on_delete=models.SET_NULL, null=True, blank=True, related_name="kit_orders"
    )
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.SCHEDULED, db_index=True)
    # Copied from the pump's stored schedule, kept in step when the schedule changes.
    ship_by = models.DateField(null=True, blank=True)
    expected_delivery = models.DateField(null=True, blank=True)
    required_delivery = models.DateField(null=True, blank=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "shop_kitorder"  # the table it had in shop (moved app, same data)
        ordering = ["ship_by", "id"]
        constraints = [
            # One live kit per pump and refill cycle: scanning twice creates one order.
            models.UniqueConstraint(
                fields=["pump", "refill"], condition=~Q(status="cancelled"), name="kitorder_one_per_pump_cycle"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="kitorder_quantity_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["scheduled", "dispatched", "failed", "cancelled"]), name="kitorder_status_known"
            ),
            models.CheckConstraint(
                condition=Q(status="dispatched", dispatched_at__isnull=False) | ~Q(status="dispatched"),
                name="kitorder_dispatched_has_time",
            ),
        ]
        indexes = [
            # The dispatch run: kits still to ship, by ship-by date.
            models.Index(
                fields=["ship_by"], name="kitorder_pending_ship_by_idx", condition=Q(status__in=["scheduled", "failed"])
            )
        ]

    def __str__(self):
        return f"Kit for pump {self.pump_id}, refill {self.refill_id} ({self.status})"


class KitAlert(models.Model):
    """A problem with a kit (or a due pump without one) that escalates until someone resolves it."""

    class Reason(models.TextChoices):
        NO_ORDER = "no_order", "Due pump has no kit order and no standing order"
        NO_STOCK = "no_stock", "No stock (or no kit product) to reserve"
        NO_APPROVAL = "no_approval", "No approved intrathecal prescription"
        PAYMENT_PROBLEM = "payment_problem", "Payment problem"
        LATE = "late", "Kit late (ship-by passed, not dispatched)"
        CANNOT_ARRIVE = "cannot_arrive", "Kit cannot arrive before it is needed"
        DISPATCH_FAILED = "dispatch_failed", "Fulfilment failed"

    pump = models.ForeignKey("pumps.Pump", on_delete=models.PROTECT, related_name="kit_alerts")
    kit_order = models.ForeignKey(KitOrder, on_delete=models.PROTECT, null=True, blank=True, related_name="alerts")
    clinic = models.ForeignKey("rx.Clinic", on_delete=models.PROTECT, related_name="kit_alerts")
    reason = models.CharField(max_length=20, choices=Reason.choices)
    message = models.TextField(blank=True)
    level = models.PositiveSmallIntegerField(default=0, help_text="Escalation step: 0 when raised, +1 each interval.")
    opened_at = models.DateTimeField(default=timezone.now)
    last_escalated_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    resolution = models.TextField(blank=True, help_text='Why it was closed ("dispatched", a staff note...).')

    class Meta:
        db_table = "shop_kitalert"  # the table it had in shop (moved app, same data)
        ordering = ["resolved_at", "-level", "opened_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["kit_order", "reason"],
                condition=Q(resolved_at__isnull=True, kit_order__isnull=False),
                name="kitalert_one_open_per_kit_reason",
            ),
            models.UniqueConstraint(
                fields=["pump", "reason"],
                condition=Q(resolved_at__isnull=True, kit_order__isnull=True),
                name="kitalert_one_open_per_pump_reason",
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("opened_at")),
                name="kitalert_resolved_after_opened",
            ),
        ]
        indexes = [
            models.Index(fields=["last_escalated_at"], name="kitalert_open_idx", condition=Q(resolved_at__isnull=True))
        ]

    def __str__(self):
        return f"{self.get_reason_display()} (pump {self.pump_id}, level {self.level})"

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None


class KitAlertEscalation(models.Model):
    """One notice sent for an alert (level 0 when raised, then each escalation). Never edited."""

    alert = models.ForeignKey(KitAlert, on_delete=models.CASCADE, related_name="escalations")
    level = models.PositiveSmallIntegerField()
    recipients = models.JSONField(default=list)
    subject = models.CharField(max_length=300)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "shop_kitalertescalation"  # the table it had in shop (moved app, same data)
        ordering = ["alert", "level", "id"]
        constraints = [models.UniqueConstraint(fields=["alert", "level"], name="kitalertescalation_once_per_level")]

    def __str__(self):
        return f"Alert {self.alert_id} level {self.level}"
