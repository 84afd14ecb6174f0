"""The idempotency app's periodic job (run by the embedded worker or Celery beat alike)."""

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.idempotency.records import purge_expired

periodic_job(
    "idempotency.purge_expired_keys", every_seconds=settings.OMS_IDEMPOTENCY_PURGE_INTERVAL_SECONDS
)(purge_expired)
