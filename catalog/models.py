"""What is sold: drugs and their clinical data, products (SKUs), price tiers, stock by lot, reviews."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from . import ndc as ndc_rules
from . import pricing


class Route(models.TextChoices):
    ORAL = "oral", "Oral"
    INTRATHECAL = "intrathecal", "Intrathecal"
    EPIDURAL = "epidural", "Epidural"
    INTRAVENOUS = "intravenous", "Intravenous"
    TOPICAL = "topical", "Topical"
    OTHER = "other", "Other"


class DoseUnit(models.TextChoices):
    MG = "mg", "mg"
    MCG = "mcg", "mcg"


class DEASchedule(models.TextChoices):
    NONE = "", "Not controlled"
    II = "II", "Schedule II"
    III = "III", "Schedule III"
    IV = "IV", "Schedule IV"
    V = "V", "Schedule V"


class Drug(models.Model):
    """An active ingredient and the facts and clinical limits that apply to it."""

    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    active_ingredient = models.CharField(max_length=200, db_index=True)
    pronunciation = models.CharField(max_length=100, blank=True)
    drug_class = models.CharField(max_length=200, blank=True)
    pharmacologic_class = models.CharField(max_length=300, blank=True)
    pregnancy_category = models.CharField(
        max_length=2, blank=True, help_text="FDA letter category (A, B, C, D, X) or N for not classified."
    )
    lactation_note = models.TextField(blank=True)
    fda_approved = models.DateField(null=True, blank=True, help_text="First FDA approval (month precision).")
    dea_schedule = models.CharField(max_length=3, choices=DEASchedule.choices, blank=True, default="")
    # Groups this drug belongs to for interaction checks, e.g. ["cns_depressant"].
    interaction_groups = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_controlled(self) -> bool:
        return bool(self.dea_schedule)


class DrugRoute(models.Model):
    """Clinical limits of a drug by route, read as data by the prescription checks."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="routes")
    route = models.CharField(max_length=20, choices=Route.choices)
    dose_unit = models.CharField(max_length=4, choices=DoseUnit.choices)
    max_daily_dose = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    min_daily_dose = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True,
        help_text="Below this a daily dose is flagged as sub-therapeutic.",
    )
    min_age_years = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Safety not established below this age."
    )
    black_box_warning = models.TextField(blank=True)
    renal_caution = models.TextField(
        blank=True, help_text="What the label says to do in renal impairment; flagged (RI) for such patients."
    )
    renal_max_daily_dose = models.DecimalField(
        max_digits=10, decimal_places=3, null=True, blank=True,
        help_text="Labelled maximum daily dose in renal impairment (in dose_unit), if the label gives one.",
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["drug", "route"], name="drugroute_unique_route"),
            models.CheckConstraint(
                condition=Q(renal_max_daily_dose__isnull=True) | Q(renal_max_daily_dose__gt=0),
                name="drugroute_renal_max_dose_positive",
            ),
            models.CheckConstraint(
                condition=Q(max_daily_dose__isnull=True) | Q(max_daily_dose__gt=0),
                name="drugroute_max_dose_positive",
            ),
            models.CheckConstraint(
                condition=Q(min_daily_dose__isnull=True) | Q(min_daily_dose__gte=0),
                name="drugroute_min_dose_non_negative",
            ),
        ]

    def __str__(self):
        return f"{self.drug} ({self.route})"


class Severity(models.TextChoices):
    """How serious a clinical finding is; shared by interaction data and the DUR findings (rx)."""

    LOW = "low", "Low"
    MODERATE = "moderate", "Moderate"
    HIGH = "high", "High"


class DrugInteraction(models.Model):
    """A known interaction of ``drug`` with an ingredient or an interaction group."""

    Severity = Severity

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="interactions")
    route = models.CharField(max_length=20, choices=Route.choices, blank=True, help_text="Blank: any route.")
    interacts_with = models.CharField(
        max_length=100, help_text="An active ingredient or an interaction group (e.g. cns_depressant)."
    )
    interacting_route = models.CharField(max_length=20, choices=Route.choices, blank=True)
    code = models.CharField(max_length=2, default="DD", help_text="NCPDP conflict code, e.g. DD or AT.")
    severity = models.CharField(max_length=10, choices=Severity.choices, default=Severity.MODERATE)
    message = models.TextField()

    def __str__(self):
        return f"{self.drug} + {self.interacts_with}"


class MonographSection(models.Model):
    """One section of a drug monograph, as published on a product page."""

    class Kind(models.TextChoices):
        OVERVIEW = "overview", "Overview"
        USES = "uses", "Uses"
        DOSAGE = "dosage", "Dosage and administration"
        CAUTIONS = "cautions", "Cautions and adverse effects"
        INTERACTIONS = "interactions", "Drug interactions"
        PHARMACOKINETICS = "pharmacokinetics", "Pharmacology and pharmacokinetics"
        PATIENT_ADVICE = "patient_advice", "Patient advice"
        MONITORING = "monitoring", "Monitoring"
        SPECIAL_GROUPS = "special_groups", "Special patient groups"
        CLINICAL = "clinical", "Clinical information"
        OTHER = "other", "Other"

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="monograph")
    product = models.ForeignKey(
        "Product", on_delete=models.CASCADE, null=True, blank=True, related_name="monograph",
        help_text="The page this text belongs to; blank for text that applies to every product of the drug.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["drug", "product", "title"], name="monograph_unique_title"),
        ]

    def __str__(self):
        return self.title


class ProductQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)


class Product(models.Model):
    """A sellable SKU, identified by its NDC."""

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
            models.CheckConstraint(condition=Q(rating_sum__lte=5 * models.F("rating_count")),
                                   name="product_rating_sum_bounded"),
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

    def tiers(self) -> list[pricing.Tier]:
        """The price schedule; uses prefetched ``price_tiers`` when present."""
        return [pricing.Tier(t.min_quantity, t.unit_price) for t in self.price_tiers.all()]

    def quote(self, quantity: int) -> pricing.Quote:
        return pricing.quote(self.tiers(), quantity)


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
                condition=Q(quantity_on_hand__lte=models.F("quantity_received")),
                name="stocklot_on_hand_le_received",
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


class Review(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=200)
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    verified_purchase = models.BooleanField(default=False)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="review_one_per_user_product"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.rating}★ {self.title}"
