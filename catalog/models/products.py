"""What is sold: products (SKUs, identified by NDC) and their price tiers."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .. import ndc as ndc_rules
from .drugs import Drug, Route

__all__ = ["ProductQuerySet", "Product", "PriceTier"]


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Product(models.Model):
    """A sellable SKU, identified by its NDC. Priced by ``catalog.services.quotes.product_pricing``."""

    class DosageForm(models.TextChoices):
        TABLET = "tablet", "Tablet"
        CAPSULE = "capsule", "Capsule"
        INJECTION = "injection", "Injection"
        SOLUTION = "solution", "Oral solution"
        KIT = "kit", "Kit"

    class SellingUnit(models.TextChoices):
        TABLET = "tablet", "tablet"
        CAPSULE = "capsule", "capsule"
        AMPULE = "ampule", "ampule"
        VIAL = "vial", "vial"
        KIT = "kit", "kit"

    drug = models.ForeignKey(Drug, on_delete=models.PROTECT, related_name="products")
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    ndc = models.CharField(max_length=11, unique=True, help_text="11-digit NDC, digits only.")
    manufacturer = models.CharField(max_length=200)
    is_generic = models.BooleanField(default=True)
    brand_name = models.CharField(max_length=200, blank=True)
    strength = models.DecimalField(max_digits=10, decimal_places=3)
    strength_unit = models.CharField(max_length=20, help_text="mg, mcg, mg/mL …")
    strength_text = models.CharField(max_length=100, blank=True, help_text="As labelled, e.g. 40 mg/20 mL.")
    concentration_mcg_per_ml = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True, help_text="Liquids: micrograms per mL."
    )
    volume_ml = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    dosage_form = models.CharField(max_length=20, choices=DosageForm.choices)
    route = models.CharField(max_length=20, choices=Route.choices)
    selling_unit = models.CharField(max_length=20, choices=SellingUnit.choices)
    pack_size = models.PositiveIntegerField(default=1, help_text="Selling units in one pack.")
    rx_required = models.BooleanField("prescription required", default=True)
    is_refill_kit = models.BooleanField(default=False)
    is_active = models.BooleanField(default=True)
    description = models.TextField(blank=True)
    low_stock_threshold = models.PositiveIntegerField(default=0)
    low_stock_alerted = models.BooleanField(default=False, editable=False)
    # Kept by the review service when a review is approved or withdrawn: the page never aggregates.
    rating_count = models.PositiveIntegerField(default=0, editable=False)
    rating_sum = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(condition=Q(ndc__regex=r"^[0-9]{11}$"), name="product_ndc_11_digits"),
            models.CheckConstraint(condition=Q(strength__gt=0), name="product_strength_positive"),
            models.CheckConstraint(condition=Q(pack_size__gte=1), name="product_pack_size_positive"),
            models.CheckConstraint(
                condition=Q(rating_sum__lte=5 * models.F("rating_count")), name="product_rating_sum_bounded"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("catalog:product-detail", kwargs={"slug": self.slug})

    def clean(self):
        if self.ndc:
            try:
                self.ndc = ndc_rules.normalize_ndc(self.ndc)
            except ndc_rules.InvalidNDC as exc:
                raise ValidationError({"ndc": str(exc)}) from exc

    @property
    def ndc_display(self) -> str:
        return ndc_rules.format_ndc(self.ndc)

    @property
    def rating_average(self) -> Decimal | None:
        if not self.rating_count:
            return None
        return (Decimal(self.rating_sum) / self.rating_count).quantize(Decimal("0.1"))


class PriceTier(models.Model):
    """From ``min_quantity`` units on, each unit costs ``unit_price``."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="price_tiers")
    min_quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))])

    class Meta:
        ordering = ["min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["product", "min_quantity"], name="pricetier_unique_break"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="pricetier_min_quantity_positive"),
            models.CheckConstraint(condition=Q(unit_price__gt=0), name="pricetier_unit_price_positive"),
        ]

    def __str__(self):
        return f"{self.min_quantity}+ at {self.unit_price}"
