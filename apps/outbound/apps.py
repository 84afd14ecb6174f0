from django.apps import AppConfig


class OutboundConfig(AppConfig):
    name = "apps.outbound"
    label = "outbound"
    verbose_name = "Outbound webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from apps.outbound import checks  # noqa: F401 (the checks register themselves)
