from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "OMS core"

    def ready(self) -> None:
        from core import authentication

        authentication.connect_invalidation()
