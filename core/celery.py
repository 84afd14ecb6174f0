"""The Celery application: workers that run the subscriptions (see apps/events/tasks.py), and
beat, which also sends the apps' periodic jobs at the intervals their ``jobs.py`` declare."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "core.settings")

app = Celery("oms")
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
