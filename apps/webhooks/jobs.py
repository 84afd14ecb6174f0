"""The provider simulator's sender, a periodic job while the simulator is on (run by the
embedded worker or Celery beat alike)."""

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.webhooks.simulator import enabled, send_if_enabled

periodic_job(
    "webhooks.send_simulated_webhooks",
    every_seconds=settings.OMS_SIMULATOR_INTERVAL_SECONDS,
    enabled=enabled,
)(send_if_enabled)
