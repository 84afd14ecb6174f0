from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "apps.events"
    label = "events"
    verbose_name = "Events"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Import every installed app's ``handlers``, ``projections`` and ``jobs`` modules now,
        # once all models are loaded, so the registries are complete before the first event.
        from django.utils.module_loading import autodiscover_modules

        autodiscover_modules("handlers", "projections", "jobs")
