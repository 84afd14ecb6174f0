"""The embedded worker's share of the idempotency housekeeping (Celery beat does it otherwise)."""

from apps.events.periodic import periodic_job
from apps.idempotency.records import purge_expired

periodic_job("idempotency.purge_expired_keys", every_seconds=3600)(purge_expired)
