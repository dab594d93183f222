"""Back office of reviews: moderation through ``catalog.services.reviews.review_moderate``, so the
products' rating summaries stay right."""

from django.contrib import admin, messages

from ..models import Review
from ..services.reviews import review_moderate


@admin.register(Review)
class ReviewAdmin(admin.ModelAdmin):
    """Moderation: approve or reject in bulk. Reviews themselves are not edited or deleted here."""

    list_display = ["title", "product", "user", "rating", "status", "verified_purchase", "created_at", "moderated_by"]
    list_filter = ["status", "product", "verified_purchase"]
    search_fields = ["title", "body", "user__username", "product__name"]
    list_select_related = ["product", "user", "moderated_by"]
    actions = ["approve", "reject"]
    readonly_fields = [
        "product",
        "user",
        "rating",
        "title",
        "body",
        "status",
        "verified_purchase",
        "moderated_by",
        "moderated_at",
        "created_at",
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
