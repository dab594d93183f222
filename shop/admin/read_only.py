"""Read-only building blocks of the shop's back office: records shown, never edited by hand."""

from django.contrib import admin

from core.admin import ReadOnlyAdminMixin


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Shown, never edited: Stripe's records mirrored here, and carts."""
