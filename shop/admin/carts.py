"""Back office for carts: shown read-only (shoppers change them on the storefront)."""

from django.contrib import admin

from ..models import Cart, CartLine
from .read_only import ReadOnlyAdmin, ReadOnlyInline


class CartLineInline(ReadOnlyInline):
    model = CartLine
    fields = readonly_fields = ["product", "quantity", "added_at"]


@admin.register(Cart)
class CartAdmin(ReadOnlyAdmin):
    list_display = ["pk", "user", "updated_at"]
    inlines = [CartLineInline]
