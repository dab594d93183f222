"""Admin building blocks shared by the apps' back offices."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from django.db.models import Model
    from django.http import HttpRequest


class ReadOnlyAdminMixin:
    """Records kept for the history (events, decisions, dispenses, lots): shown, never added,
    changed or deleted through the admin. Put it before ``admin.ModelAdmin`` or an inline class."""

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
