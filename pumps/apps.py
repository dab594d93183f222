from django.apps import AppConfig


class PumpsConfig(AppConfig):
    """Implanted pumps, their schedules, refill kits, standing orders, dispatch and alerts."""

    name = "pumps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import receivers

        receivers.connect()
