"""Outbound webhooks' periodic jobs: send due messages; purge old attempts (embedded worker or
Celery beat alike)."""

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.outbound import sender

# Seconds one run may start new batches for: the embedded worker runs its jobs between
# subscription batches, and a slow endpoint must not hold those up for long.
RUN_SECONDS = 5.0


@periodic_job(
    "outbound.send_due_messages", every_seconds=settings.OMS_OUTBOUND_SEND_INTERVAL_SECONDS
)
def send_due_messages() -> int:
    return sender.send_due(seconds=RUN_SECONDS).delivered


periodic_job("outbound.purge_attempts", every_seconds=3600.0)(sender.purge_attempts)
