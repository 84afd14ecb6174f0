from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only by ``bench.settings`` (for ``bench.ceiling_urls``); it registers no event
    handler, so the subscriptions are the product's own."""

    name = "bench"
    label = "bench"
    verbose_name = "Benchmarks"
