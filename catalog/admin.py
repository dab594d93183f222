"""Back office of the catalog: drugs and their clinical data, products, tiers, lots, reviews.

Rules kept here: price tiers are validated as a whole schedule (catalog.pricing); stock only
comes in through ``catalog.services.stock.stock_receive`` (a "Receive a lot" page per product;
lot quantities are never edited by hand); review moderation goes through
``catalog.services.reviews.review_moderate`` so that the rating summaries stay right.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from core.admin import ReadOnlyAdminMixin
from core.errors import DomainError

from . import ndc as ndc_rules
from . import pricing
from .models import (
    Drug,
    DrugInteraction,
    DrugRoute,
    MonographSection,
    PriceTier,
    Product,
    Review,
    StockLot,
)
from .services.reviews import review_moderate
from .services.stock import stock_receive, with_availability

# --- drugs --------------------------------------------------------------------------------


class DrugRouteInline(admin.StackedInline):
    model = DrugRoute
    extra = 0
    fields = [("route", "dose_unit"), ("min_daily_dose", "max_daily_dose", "min_age_years"), "black_box_warning",
              ("renal_caution", "renal_max_daily_dose")]


class DrugInteractionInline(admin.TabularInline):
    model = DrugInteraction
    extra = 0
    fields = ["route", "interacts_with", "interacting_route", "code", "severity", "message"]


class MonographSectionInline(admin.StackedInline):
    model = MonographSection
    extra = 0
    fields = [("position", "kind", "product"), "title", "body"]
    ordering = ["product", "position", "id"]
    show_change_link = False

    def get_formset(self, request, obj=None, **kwargs):
        """Offer only this drug's products, and read them once rather than once per section."""
        formset = super().get_formset(request, obj, **kwargs)
        product_field = formset.form.base_fields["product"]
        product_field.queryset = Product.objects.filter(drug=obj) if obj else Product.objects.none()
        choices = list(product_field.choices)

        class SectionForm(formset.form):
            def __init__(self, *args, **kwargs):
                super().__init__(*args, **kwargs)
                widget = self.fields["product"].widget
                getattr(widget, "widget", widget).choices = choices

        formset.form = SectionForm
        return formset


@admin.register(Drug)
class DrugAdmin(admin.ModelAdmin):
    list_display = ["name", "active_ingredient", "drug_class", "pregnancy_category", "dea_schedule_label"]
    search_fields = ["name", "active_ingredient", "drug_class"]
    prepopulated_fields = {"slug": ["name"]}
    inlines = [DrugRouteInline, DrugInteractionInline, MonographSectionInline]

    @admin.display(description="DEA schedule")
    def dea_schedule_label(self, obj):
        return obj.get_dea_schedule_display()


# --- products -----------------------------------------------------------------------------


class ProductAdminForm(forms.ModelForm):
    # Wider than the column: the admin may type any accepted NDC form; clean_ndc stores 11 digits.
    ndc = forms.CharField(
        label="NDC", max_length=20,
        help_text="11 digits, 5-4-2 with hyphens, or a hyphenated 10-digit 4-4-2, 5-3-2 or 5-4-1.",
    )

    class Meta:
        model = Product
        fields = [
            "drug", "name", "slug", "ndc", "manufacturer", "is_generic", "brand_name", "strength", "strength_unit",
            "strength_text", "concentration_mcg_per_ml", "volume_ml", "dosage_form", "route", "selling_unit",
            "pack_size", "rx_required", "is_refill_kit", "is_active", "low_stock_threshold", "description",
        ]

    def clean_ndc(self):
        try:
            return ndc_rules.normalize_ndc(self.cleaned_data["ndc"])
        except ndc_rules.InvalidNDC as exc:
            raise ValidationError(str(exc), code="invalid_ndc") from exc


class PriceTierFormSet(forms.BaseInlineFormSet):
    """Validate the tiers together: no two tiers start at the same quantity, the first starts
    at 1, prices are positive. No tiers at all is allowed (the product shows "price on request")."""

    def clean(self):
        super().clean()
        if any(self.errors):
            return
        tiers = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None)
            if not data or data.get("DELETE"):
                continue
            if data.get("min_quantity") is None and data.get("unit_price") is None:
                continue
            tiers.append(pricing.Tier(data.get("min_quantity"), data.get("unit_price")))
        if not tiers:
            return
        try:
            pricing.validate_tiers(tiers)
        except pricing.InvalidTiers as exc:
            raise ValidationError(f"Price tiers refused: {exc}", code="invalid_tiers") from exc


class PriceTierInline(admin.TabularInline):
    model = PriceTier
    formset = PriceTierFormSet
    extra = 0
    fields = ["min_quantity", "unit_price"]
    ordering = ["min_quantity"]


class StockLotInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Lots are shown, never edited: stock comes in through "Receive a lot"."""

    model = StockLot
    extra = 0
    can_delete = False
    fields = readonly_fields = ["lot_number", "expiry_date", "quantity_received", "quantity_on_hand", "received_at"]
    ordering = ["expiry_date", "id"]


class ReceiveLotForm(forms.Form):
    lot_number = forms.CharField(max_length=50)
    expiry_date = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    quantity = forms.IntegerField(min_value=1, max_value=2_147_483_647,
                                  help_text="Selling units received (e.g. tablets, vials).")

    def clean_lot_number(self):
        return self.cleaned_data["lot_number"].strip()


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    change_form_template = "admin/catalog/product/change_form.html"
    list_display = [
        "name", "ndc_hyphenated", "manufacturer", "route", "rx_required", "is_active", "available", "rating",
    ]
    list_filter = ["is_active", "rx_required", "route", "dosage_form", "drug"]
    search_fields = ["name", "ndc", "manufacturer", "drug__name", "drug__active_ingredient"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["drug"]
    readonly_fields = ["rating_count", "rating_sum", "created_at", "updated_at"]
    inlines = [PriceTierInline, StockLotInline]
    fieldsets = [
        (None, {"fields": ["drug", "name", "slug", "ndc", "manufacturer", ("is_generic", "brand_name")]}),
        ("Strength and form", {"fields": [
            ("strength", "strength_unit", "strength_text"), ("concentration_mcg_per_ml", "volume_ml"),
            ("dosage_form", "route"), ("selling_unit", "pack_size"),
        ]}),
        ("Sale", {"fields": [("rx_required", "is_refill_kit", "is_active"), "low_stock_threshold", "description"]}),
        ("Ratings (kept by review moderation)", {"fields": [("rating_count", "rating_sum")],
                                                 "classes": ["collapse"]}),
        ("History", {"fields": [("created_at", "updated_at")], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        return with_availability(super().get_queryset(request))

    @admin.display(description="NDC", ordering="ndc")
    def ndc_hyphenated(self, obj):
        return obj.ndc_display

    @admin.display(description="Available", ordering="stock_available")
    def available(self, obj):
        return obj.stock_available

    @admin.display(description="Rating")
    def rating(self, obj):
        return f"{obj.rating_average} ({obj.rating_count})" if obj.rating_count else "—"

    def get_urls(self):
        return [
            path("<path:object_id>/receive-lot/", self.admin_site.admin_view(self.receive_lot_view),
                 name="catalog_product_receive_lot"),
            *super().get_urls(),
        ]

    def receive_lot_view(self, request, object_id):
        """Record a received lot through the stock service (the only way stock comes in)."""
        product = get_object_or_404(Product, pk=object_id)
        if not (self.has_change_permission(request, product) and request.user.has_perm("catalog.add_stocklot")):
            raise PermissionDenied
        form = ReceiveLotForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                lot = stock_receive(product=product, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
            else:
                self.log_addition(request, lot, [{"added": {"name": "stock lot", "object": str(lot)}}])
                self.message_user(request, (
                    f"Received lot {lot.lot_number}: {lot.quantity_received} units, expiring {lot.expiry_date}."
                ), messages.SUCCESS)
                return redirect(reverse("admin:catalog_product_change", args=[product.pk]))
        context = {
            **self.admin_site.each_context(request),
            "title": f"Receive a lot of {product.name}",
            "opts": self.opts,
            "original": product,
            "form": form,
            "today": timezone.localdate(),
        }
        return TemplateResponse(request, "admin/catalog/product/receive_lot.html", context)


@admin.register(StockLot)
class StockLotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only list of lots; receiving goes through the product's "Receive a lot" page."""

    list_display = ["product", "lot_number", "expiry_date", "quantity_received", "quantity_on_hand", "received_at"]
    list_filter = ["product"]
    search_fields = ["lot_number", "product__name", "product__ndc"]
    list_select_related = ["product"]
    date_hierarchy = "expiry_date"


# --- reviews ------------------------------------------------------------------------------


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation: approve or reject in bulk. Reviews themselves are not edited or deleted here."""

    list_display = ["title", "product", "user", "rating", "status", "verified_purchase", "created_at", "moderated_by"]
    list_filter = ["status", "product", "verified_purchase"]
    search_fields = ["title", "body", "user__username", "product__name"]
    list_select_related = ["product", "user", "moderated_by"]
    actions = ["approve", "reject"]
    readonly_fields = [
        "product", "user", "rating", "title", "body", "status", "verified_purchase",
        "moderated_by", "moderated_at", "created_at",
    ]
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change list and its actions need "change"; a single review opens read-only.
        if obj is not None:
            return False
        return super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        # Deleting an approved review would leave the product's rating summary wrong. Without the
        # delete permission the admin also drops its "delete selected" action.
        return False

    @admin.action(description="Approve selected reviews", permissions=["change"])
    def approve(self, request, queryset):
        self._moderate(request, queryset, Review.Status.APPROVED, "approved")

    @admin.action(description="Reject selected reviews", permissions=["change"])
    def reject(self, request, queryset):
        self._moderate(request, queryset, Review.Status.REJECTED, "rejected")

    def _moderate(self, request, queryset, status, verb):
        changed = review_moderate(reviews=list(queryset), status=status, moderator=request.user)
        selected = queryset.count()
        note = f" ({selected - changed} already {verb})" if changed != selected else ""
        self.message_user(request, f"{changed} review{'s' if changed != 1 else ''} {verb}{note}.", messages.SUCCESS)

