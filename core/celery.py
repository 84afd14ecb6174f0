"""The Celery application: workers that run the subscriptions (see apps/events/tasks.py), and
beat, which also sends the apps' periodic jobs at the intervals their ``jobs.py`` declare. Both
log in the service's format (``core/celery_logging.py``)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from kombu.utils.objects import cached_property

from core import celery_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")


class ServiceCelery(Celery):
    """Celery whose ``worker`` and ``beat`` programs write what they print as log lines in
    JSON mode."""

    @cached_property
    def Worker(self) -> Any:
        return self.subclass_with_self(celery_logging.Worker)

    @cached_property
    def Beat(self) -> Any:
        return self.subclass_with_self(celery_logging.Beat)


app = ServiceCelery("oms")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_jobs(sender: Celery, **kwargs: Any) -> None:
    """Add every enabled periodic job to beat's schedule: the declaration the embedded worker
    reads too, so both run the same jobs at the same intervals."""
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()
    from apps.events import periodic

    sender.conf.beat_schedule = {**sender.conf.beat_schedule, **periodic.beat_schedule()}
