from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "core"
    verbose_name = "OMS core"

    def ready(self) -> None:
        from core import authentication, checks  # noqa: F401 (checks register themselves)

        authentication.connect_invalidation()
