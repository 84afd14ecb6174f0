"""Outbound webhooks' periodic jobs: send due messages; purge old attempts (embedded worker or
Celery beat alike)."""

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.outbound import sender

periodic_job(
    "outbound.send_due_messages", every_seconds=settings.OMS_OUTBOUND_SEND_INTERVAL_SECONDS
)(sender.send_due)
periodic_job("outbound.purge_attempts", every_seconds=3600.0)(sender.purge_attempts)
