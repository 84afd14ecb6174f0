"""The embedded worker sends the simulator's due webhooks (Celery beat does it otherwise)."""

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.webhooks.simulator import send_if_enabled

periodic_job(
    "webhooks.send_simulated_webhooks", every_seconds=settings.OMS_SIMULATOR_INTERVAL_SECONDS
)(send_if_enabled)
