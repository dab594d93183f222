"""Admin building blocks shared by the apps' back offices."""


class ReadOnlyAdminMixin:
    """Records kept for the history (events, decisions, dispenses, lots): shown, never added,
    changed or deleted through the admin. Put it before ``admin.ModelAdmin`` or an inline class."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
