"""``manage.py purge_idempotency_keys``: delete idempotency records whose keys have expired."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from apps.idempotency.records import purge_expired


class Command(BaseCommand):
    help = (
        "Delete expired idempotency keys (older than OMS_IDEMPOTENCY_KEY_TTL_HOURS). Expired keys "
        "are already ignored by requests; this only reclaims their rows."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        deleted = purge_expired()
        self.stdout.write(f"purged {deleted} expired idempotency key(s)")
