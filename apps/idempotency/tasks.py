"""Celery task of the idempotency app, run periodically by beat (``CELERY_BEAT_SCHEDULE``)."""

from __future__ import annotations

from celery import shared_task

from apps.idempotency.records import purge_expired


@shared_task(name="idempotency.purge_expired_keys", ignore_result=True)
def purge_expired_keys_task() -> int:
    return purge_expired()
