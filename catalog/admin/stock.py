"""Back office of stock lots: shown, never edited (lot quantities only change through the stock service)."""

from django import forms
from django.conf import settings
from django.contrib import admin

from core.admin import ReadOnlyAdminMixin

from ..models import StockLot


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
    quantity = forms.IntegerField(
        min_value=1, max_value=2_147_483_647, help_text="Selling units received (e.g. tablets, vials)."
    )

    def clean_lot_number(self):
        return self.cleaned_data["lot_number"].strip()

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        cap = settings.CATALOG_LOT_MAX_QUANTITY
        if quantity > cap:
            raise forms.ValidationError(f"A lot holds at most {cap} units.")
        return quantity


@admin.register(StockLot)
class StockLotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Read-only list of lots; receiving goes through the product's "Receive a lot" page."""

    list_display = ["product", "lot_number", "expiry_date", "quantity_received", "quantity_on_hand", "received_at"]
    list_filter = ["product"]
    search_fields = ["lot_number", "product__name", "product__ndc"]
    list_select_related = ["product"]
    date_hierarchy = "expiry_date"
