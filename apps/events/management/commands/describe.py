"""``manage.py describe``: how the service is wired, read from the registries themselves.

Which handlers (subscriptions) and projections react to each event type, and which periodic
jobs run and how often: what the embedded worker and Celery run, as declared in each app's
``handlers.py``, ``projections.py`` and ``jobs.py``.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.events import periodic, projection
from apps.events.base import known_event_types
from apps.events.registry import registry


class Command(BaseCommand):
    help = "Print event type → subscriptions and projections, then the periodic jobs."

    def handle(self, *args: Any, **options: Any) -> None:
        projections = projection.registered()
        self.stdout.write(
            "Events → subscriptions (after commit) | projections (in the transaction)"
        )
        for event_type in sorted(known_event_types()):
            handlers = registry.handler_names_for(event_type)
            applied = sorted(
                name for name, cls in projections.items() if event_type in cls.event_types
            )
            self.stdout.write(
                f"  {event_type:<26} → {', '.join(handlers) or '-'} | {', '.join(applied) or '-'}"
            )
        self.stdout.write("Periodic jobs (embedded worker and Celery beat alike)")
        for job in periodic.jobs():
            state = "" if job.enabled() else "  (off in this set-up)"
            self.stdout.write(f"  {job.name:<36} every {job.every_seconds:g} s{state}")
