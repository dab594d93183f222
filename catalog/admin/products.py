"""Back office of products: the NDC in any accepted form, price tiers validated as a whole schedule
(``catalog.pricing``), and the "Receive a lot" page, the only way stock comes in
(``catalog.services.stock.stock_receive``)."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from core.errors import DomainError

from .. import ndc as ndc_rules
from .. import pricing
from ..models import PriceTier, Product
from ..services.stock import stock_receive, with_availability
from .stock import ReceiveLotForm, StockLotInline


class ProductAdminForm(forms.ModelForm):
    # Wider than the column: the admin may type any accepted NDC form; clean_ndc stores 11 digits.
    ndc = forms.CharField(
        label="NDC",
        max_length=20,
        help_text="11 digits, 5-4-2 with hyphens, or a hyphenated 10-digit 4-4-2, 5-3-2 or 5-4-1.",
    )

    class Meta:
        model = Product
        fields = [
            "drug",
            "name",
            "slug",
            "ndc",
            "manufacturer",
            "is_generic",
            "brand_name",
            "strength",
            "strength_unit",
            "strength_text",
            "concentration_mcg_per_ml",
            "volume_ml",
            "dosage_form",
            "route",
            "selling_unit",
            "pack_size",
            "rx_required",
            "is_refill_kit",
            "is_active",
            "low_stock_threshold",
            "description",
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


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    form = ProductAdminForm
    change_form_template = "admin/catalog/product/change_form.html"
    list_display = [
        "name",
        "ndc_hyphenated",
        "manufacturer",
        "route",
        "rx_required",
        "is_active",
        "available",
        "rating",
    ]
    list_filter = ["is_active", "rx_required", "route", "dosage_form", "drug"]
    search_fields = ["name", "ndc", "manufacturer", "drug__name", "drug__active_ingredient"]
    prepopulated_fields = {"slug": ["name"]}
    list_select_related = ["drug"]
    readonly_fields = ["rating_count", "rating_sum", "created_at", "updated_at"]
    inlines = [PriceTierInline, StockLotInline]
    fieldsets = [
        (None, {"fields": ["drug", "name", "slug", "ndc", "manufacturer", ("is_generic", "brand_name")]}),
        (
            "Strength and form",
            {
                "fields": [
                    ("strength", "strength_unit", "strength_text"),
                    ("concentration_mcg_per_ml", "volume_ml"),
                    ("dosage_form", "route"),
                    ("selling_unit", "pack_size"),
                ]
            },
        ),
        ("Sale", {"fields": [("rx_required", "is_refill_kit", "is_active"), "low_stock_threshold", "description"]}),
        ("Ratings (kept by review moderation)", {"fields": [("rating_count", "rating_sum")], "classes": ["collapse"]}),
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
            path(
                "<path:object_id>/receive-lot/",
                self.admin_site.admin_view(self.receive_lot_view),
                name="catalog_product_receive_lot",
            ),
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
                self.message_user(
                    request,
                    (f"Received lot {lot.lot_number}: {lot.quantity_received} units, expiring {lot.expiry_date}."),
                    messages.SUCCESS,
                )
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
