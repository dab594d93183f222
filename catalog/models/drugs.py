"""Drugs and their clinical data: routes with dose limits, interactions, monograph sections."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

__all__ = [
    "Route",
    "DoseUnit",
    "DEASchedule",
    "Drug",
    "DrugRoute",
    "Severity",
    "DrugInteraction",
    "DrugTerm",
    "MonographSection",
]


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
    # Brand names of the drug, e.g. ["Lioresal", "Gablofen"]: matched in allergies and medication lists.
    brand_names = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def is_controlled(self) -> bool:
        return bool(self.dea_schedule)

    def clean(self):
        if not names_list(self.brand_names):
            raise ValidationError({"brand_names": 'Expected a list of brand names, e.g. ["Lioresal"].'})


class DrugRoute(models.Model):
    """Clinical limits of a drug by route, read as data by the prescription checks."""

    drug = models.ForeignKey(Drug, on_delete=models.CASCADE, related_name="routes")
    route = models.CharField(max_length=20, choices=Route.choices)
    dose_unit = models.CharField(max_length=4, choices=DoseUnit.choices)
    max_daily_dose = models.DecimalField(max_digits=10, decimal_places=3, null=True, blank=True)
    min_daily_dose = models.DecimalField(
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
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
        max_digits=10,
        decimal_places=3,
        null=True,
        blank=True,
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
                condition=Q(max_daily_dose__isnull=True) | Q(max_daily_dose__gt=0), name="drugroute_max_dose_positive"
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


def names_list(value: Any) -> bool:
    """True for a JSON list of non-empty strings (brand names, interaction classes)."""
    return isinstance(value, list) and all(isinstance(item, str) and item.strip() for item in value)


class DrugTerm(models.Model):
    """A word people write for a drug (an ingredient or a brand name) and the interaction classes
    it belongs to (the ``interacts_with`` values of ``DrugInteraction`` and the drugs'
    ``interaction_groups``, e.g. ["benzodiazepine", "cns_depressant"]). The DUR reads free-text
    medication lists against these terms (``catalog.vocabulary``)."""

    class Kind(models.TextChoices):
        INGREDIENT = "ingredient", "Ingredient"
        BRAND = "brand", "Brand name"

    name = models.CharField(max_length=100, unique=True, help_text="As written, e.g. alprazolam or Xanax.")
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.INGREDIENT)
    ingredient = models.CharField(
        max_length=100, blank=True, help_text="The active ingredient a brand name stands for (blank: the name itself)."
    )
    classes = models.JSONField(default=list, blank=True, help_text='Interaction classes, e.g. ["opioid"].')

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="ingredient") | ~Q(ingredient=""), name="drugterm_brand_names_its_ingredient"
            ),
            models.UniqueConstraint(
                Lower("name"), name="drugterm_unique_name_any_case", violation_error_message="This term already exists."
            ),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        if not names_list(self.classes):
            raise ValidationError({"classes": 'Expected a list of class names, e.g. ["opioid", "cns_depressant"].'})


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
        "Product",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="monograph",
        help_text="The page this text belongs to; blank for text that applies to every product of the drug.",
    )
    kind = models.CharField(max_length=20, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField()
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["drug", "product", "title"], name="monograph_unique_title")]

    def __str__(self):
        return self.title
