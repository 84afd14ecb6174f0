from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only by ``bench.settings``: registers the bench's no-op event handler."""

    name = "bench"
    label = "bench"
    verbose_name = "Benchmarks"
