"""Expired keys: ignored by requests (tests/integration), deleted by the purge command and job."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command

from apps.events import periodic
from apps.events.tasks import run_periodic_job_task
from apps.idempotency.models import IdempotencyRecord
from apps.idempotency.records import purge_expired
from shared.clock import frozen_clock

pytestmark = pytest.mark.django_db

START = datetime(2030, 1, 1, tzinfo=UTC)


def record(key: str, age: timedelta) -> IdempotencyRecord:
    created = START - age
    return IdempotencyRecord.objects.create(
        owner="1",
        scope="POST /api/v1/orders/",
        key=key,
        fingerprint="0" * 64,
        response_status=201,
        response_body={"id": key},
        created_at=created,
        expires_at=created + timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS),
    )


def keys() -> set[str]:
    return set(IdempotencyRecord.objects.values_list("key", flat=True))


def test_the_purge_command_deletes_expired_keys_only() -> None:
    record("old", timedelta(hours=25))
    record("just-expired", timedelta(hours=24))
    record("fresh", timedelta(hours=23, minutes=59))
    out = StringIO()
    with frozen_clock(START):
        call_command("purge_idempotency_keys", stdout=out)
    assert keys() == {"fresh"}
    assert "purged 2 expired idempotency key(s)" in out.getvalue()


def test_purging_works_in_batches() -> None:
    for index in range(7):
        record(f"old-{index}", timedelta(days=2))
    record("fresh", timedelta(minutes=5))
    assert purge_expired(now=START, batch_size=3) == 7
    assert keys() == {"fresh"}


def test_the_periodic_job_purges_and_is_scheduled_by_beat() -> None:
    record("old", timedelta(days=3))
    record("older", timedelta(days=4))
    with frozen_clock(START):
        assert periodic.run_job("idempotency.purge_expired_keys") == 2
        record("old-again", timedelta(days=3))
        run_periodic_job_task("idempotency.purge_expired_keys")  # what beat sends
    assert keys() == set()
    entry = periodic.beat_schedule()["periodic:idempotency.purge_expired_keys"]
    assert entry["task"] == run_periodic_job_task.name
    assert entry["schedule"] == settings.OMS_IDEMPOTENCY_PURGE_INTERVAL_SECONDS
