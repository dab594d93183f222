from django.apps import AppConfig


class RxConfig(AppConfig):
    name = "rx"
    default_auto_field = "django.db.models.BigAutoField"
