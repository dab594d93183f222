from django.apps import AppConfig


class PumpsConfig(AppConfig):
    """Implanted pumps, their schedules, refill kits, standing orders, dispatch and alerts."""

    name = "pumps"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import receivers
        from .groups import ensure_pharmacist_pump_permissions

        receivers.connect()
        post_migrate.connect(ensure_pharmacist_pump_permissions, sender=self, dispatch_uid="pumps.pharmacist_perms")
