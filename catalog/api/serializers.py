"""Catalogue API serializers. Reads use what ``catalog.selectors`` prefetched: no query per row."""

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from ..models import MonographSection, Product, Review, StockLot
from ..selectors import product_monograph
from ..services.quotes import MAX_QUANTITY, product_pricing

MONEY = {"max_digits": 12, "decimal_places": 2, "coerce_to_string": True}


class PriceTierSerializer(serializers.Serializer):
    min_quantity = serializers.IntegerField()
    max_quantity = serializers.IntegerField(allow_null=True, help_text="Null for the last, open-ended tier.")
    unit_price = serializers.DecimalField(**MONEY)


class AvailabilitySerializer(serializers.Serializer):
    quantity_available = serializers.IntegerField()
    in_stock = serializers.BooleanField()


class RatingSerializer(serializers.Serializer):
    average = serializers.DecimalField(
        max_digits=2, decimal_places=1, allow_null=True, help_text="Mean of approved reviews; null without any."
    )
    count = serializers.IntegerField()


class RouteLimitsSerializer(serializers.Serializer):
    route = serializers.CharField()
    dose_unit = serializers.CharField()
    max_daily_dose = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    min_daily_dose = serializers.DecimalField(max_digits=10, decimal_places=3, allow_null=True)
    min_age_years = serializers.IntegerField(allow_null=True)


class DrugFactsSerializer(serializers.Serializer):
    name = serializers.CharField()
    active_ingredient = serializers.CharField()
    drug_class = serializers.CharField()
    pharmacologic_class = serializers.CharField()
    pregnancy_category = serializers.CharField()
    fda_approved = serializers.DateField(allow_null=True)
    dea_schedule = serializers.CharField(help_text="II, III, IV or V; empty when not controlled.")
    black_box_warning = serializers.CharField(help_text="For this product's route; empty when none.")
    route_limits = RouteLimitsSerializer(allow_null=True, help_text="Clinical limits for this product's route.")


class MonographSectionSerializer(serializers.ModelSerializer):
    class Meta:
        model = MonographSection
        fields = ["kind", "title", "body"]


# The nested parts below are built as plain dicts (their serializers above only document them):
# instantiating a serializer per part costs more than the rest of the response on a product page.
# Decimals come from the database with their column's places, so str() renders them as DRF would.


def _decimal(value) -> str | None:
    return None if value is None else str(value)


def _tiers(product: Product) -> list[dict]:
    return [
        {"min_quantity": r.min_quantity, "max_quantity": r.max_quantity, "unit_price": _decimal(r.unit_price)}
        for r in product_pricing(product).ranges
    ]  # prefetched price_tiers


class ProductSerializer(serializers.ModelSerializer):
    """A product in the catalogue list."""

    ndc = serializers.CharField(help_text="11 digits, no hyphens.")
    ndc_display = serializers.CharField(help_text="5-4-2 with hyphens.")
    price_tiers = serializers.SerializerMethodField()
    availability = serializers.SerializerMethodField()
    rating = serializers.SerializerMethodField()

    class Meta:
        model = Product
        fields = [
            "ndc",
            "ndc_display",
            "name",
            "slug",
            "manufacturer",
            "is_generic",
            "brand_name",
            "strength",
            "strength_unit",
            "strength_text",
            "dosage_form",
            "route",
            "selling_unit",
            "pack_size",
            "rx_required",
            "is_refill_kit",
            "price_tiers",
            "availability",
            "rating",
        ]

    @extend_schema_field(PriceTierSerializer(many=True))
    def get_price_tiers(self, product):
        return _tiers(product)

    @extend_schema_field(AvailabilitySerializer)
    def get_availability(self, product):
        available = product.stock_available  # catalog.selectors.product_list()
        return {"quantity_available": available, "in_stock": available > 0}

    @extend_schema_field(RatingSerializer)
    def get_rating(self, product):
        return {"average": _decimal(product.rating_average), "count": product.rating_count}


class ProductDetailSerializer(ProductSerializer):
    """A product page: the list fields plus drug facts and the monograph."""

    drug_facts = serializers.SerializerMethodField()
    monograph = serializers.SerializerMethodField()

    class Meta(ProductSerializer.Meta):
        fields = [
            *ProductSerializer.Meta.fields,
            "concentration_mcg_per_ml",
            "volume_ml",
            "description",
            "drug_facts",
            "monograph",
        ]

    @extend_schema_field(DrugFactsSerializer)
    def get_drug_facts(self, product):
        drug = product.drug
        limits = next((r for r in drug.routes.all() if r.route == product.route), None)  # prefetched
        return {
            "name": drug.name,
            "active_ingredient": drug.active_ingredient,
            "drug_class": drug.drug_class,
            "pharmacologic_class": drug.pharmacologic_class,
            "pregnancy_category": drug.pregnancy_category,
            "fda_approved": drug.fda_approved.isoformat() if drug.fda_approved else None,
            "dea_schedule": drug.dea_schedule,
            "black_box_warning": limits.black_box_warning if limits else "",
            "route_limits": {
                "route": limits.route,
                "dose_unit": limits.dose_unit,
                "max_daily_dose": _decimal(limits.max_daily_dose),
                "min_daily_dose": _decimal(limits.min_daily_dose),
                "min_age_years": limits.min_age_years,
            }
            if limits
            else None,
        }

    @extend_schema_field(MonographSectionSerializer(many=True))
    def get_monograph(self, product):
        return [{"kind": s.kind, "title": s.title, "body": s.body} for s in product_monograph(product)]


class QuoteQuerySerializer(serializers.Serializer):
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class QuoteSerializer(serializers.Serializer):
    ndc = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(**MONEY)
    total = serializers.DecimalField(max_digits=24, decimal_places=2, coerce_to_string=True)
    available = serializers.BooleanField(help_text="Whether the stock available now covers the quantity.")
    quantity_available = serializers.IntegerField()


class ReviewSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="user.username", read_only=True)
    # Named apart from the many other "status" fields so the OpenAPI enum gets a name of its own.
    moderation_status = serializers.ChoiceField(source="status", choices=Review.Status.choices, read_only=True)

    class Meta:
        model = Review
        fields = ["id", "rating", "title", "body", "author", "verified_purchase", "moderation_status", "created_at"]
        read_only_fields = fields


class ReviewCreateSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    title = serializers.CharField(max_length=200)
    body = serializers.CharField(max_length=10_000)


class StockLotCreateSerializer(serializers.Serializer):
    lot_number = serializers.CharField(max_length=50)
    expiry_date = serializers.DateField()
    quantity = serializers.IntegerField(
        min_value=1, max_value=MAX_QUANTITY, help_text="Selling units received, 1 to CATALOG_LOT_MAX_QUANTITY."
    )

    def validate_quantity(self, value: int) -> int:
        cap = settings.CATALOG_LOT_MAX_QUANTITY
        if value > cap:
            raise serializers.ValidationError(f"A lot holds at most {cap} units.")
        return value


class StockLotSerializer(serializers.ModelSerializer):
    ndc = serializers.CharField(source="product.ndc", read_only=True)

    class Meta:
        model = StockLot
        fields = ["id", "ndc", "lot_number", "expiry_date", "quantity_received", "quantity_on_hand", "received_at"]
        read_only_fields = fields
