from django.apps import AppConfig
from django.db.models.signals import post_migrate


class RxConfig(AppConfig):
    name = "rx"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .groups import ensure_pharmacist_group

        post_migrate.connect(ensure_pharmacist_group, sender=self, dispatch_uid="rx.ensure_pharmacist_group")
