from django.apps import AppConfig


class RecoveryConfig(AppConfig):
    name = "apps.recovery"
    label = "recovery"
    verbose_name = "Recovery"
    default_auto_field = "django.db.models.BigAutoField"
