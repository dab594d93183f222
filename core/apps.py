from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared building blocks: errors, the API error handler, pagination, parsers, accounts, calendar."""

    name = "core"
    default_auto_field = "django.db.models.BigAutoField"
