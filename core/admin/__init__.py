"""Back-office building blocks shared by every app's admin."""

from .mixins import ReadOnlyAdminMixin

__all__ = ["ReadOnlyAdminMixin"]
