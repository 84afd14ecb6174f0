"""Appending to and reading from the event store.

:func:`append` is called by services inside their transaction. It writes the events and applies
the projections that read them, and nothing else: reactions are subscriptions that read the log
after it commits (``apps/events/subscriptions.py``), so a rolled-back transaction causes nothing
and a committed one loses nothing, whatever happens to the process afterwards. On PostgreSQL the
commit itself wakes the runners (``NOTIFY`` from the trigger that gives positions).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max, QuerySet

from apps.events import after_commit
from apps.events.base import DomainEvent, to_json
from apps.events.context import current_causation
from apps.events.models import StoredEvent, bucket_of
from apps.events.projection import apply_inline
from shared import clock, metrics
from shared import rows as shared_rows
from shared.exceptions import ConcurrencyConflict


def append(
    events: Sequence[DomainEvent],
    *,
    expected_version: int,
    user_id: Any = None,
    idempotency_key: str | None = None,
) -> list[StoredEvent]:
    """Append ``events`` of one aggregate after ``expected_version``.

    Must run inside ``transaction.atomic()``. Raises :class:`ConcurrencyConflict` when another
    writer already stored one of these versions.
    """
    if not events:
        return []
    aggregate = {(type(e).aggregate_type, e.aggregate_id) for e in events}
    if len(aggregate) != 1:
        raise ValueError("append() takes the events of exactly one aggregate")
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("append() must run inside transaction.atomic()")

    stored = _rows_of(events, expected_version, user_id, idempotency_key)
    try:
        # No savepoint (a round trip each way): a lost race aborts the whole command anyway, and
        # Django marks the caller's transaction for rollback so nobody can carry on in it.
        with transaction.atomic(savepoint=False):
            shared_rows.insert(stored, returning="sequence")
    except IntegrityError as exc:
        aggregate_type, aggregate_id = next(iter(aggregate))
        raise ConcurrencyConflict(
            f"{aggregate_type} {aggregate_id} was changed concurrently "
            f"(expected version {expected_version}).",
            expected_version=expected_version,
        ) from exc

    # The read models of this database change in this transaction, with the write.
    apply_inline(stored)
    after_commit.log_grew()
    appended_types = [row.event_type for row in stored]
    transaction.on_commit(lambda: _count_appended(appended_types))
    return stored


def _count_appended(event_types: list[str]) -> None:
    # Counted once committed: a rolled-back command appended nothing.
    for event_type in event_types:
        metrics.events_appended.labels(event_type).inc()


def _rows_of(
    events: Sequence[DomainEvent],
    expected_version: int,
    user_id: Any,
    idempotency_key: str | None,
) -> list[StoredEvent]:
    """The log's rows of ``events``: versions after ``expected_version``, one moment, the
    metadata of who and what caused them."""
    moment = clock.now()
    causation = current_causation()
    stored: list[StoredEvent] = []
    for offset, event in enumerate(events, start=1):
        version = expected_version + offset
        partition_key = event.partition_key()
        stored.append(
            StoredEvent(
                event_id=uuid.uuid4(),
                event_type=event.event_type,
                aggregate_type=event.aggregate_type,
                aggregate_id=event.aggregate_id,
                partition_key=partition_key,
                bucket=bucket_of(partition_key),
                version=version,
                payload=event.payload(),
                metadata={
                    "user_id": to_json(user_id),
                    "timestamp": to_json(moment),
                    "version": version,
                    "correlation_id": str(causation.correlation_id),
                    "causation_id": to_json(causation.causation_id),
                },
                idempotency_key=idempotency_key,
                occurred_at=moment,
            )
        )
    return stored


def committed_after(position: int) -> QuerySet[StoredEvent]:
    """Events whose transaction committed after ``position``, in commit order.

    Gap-safe: positions become visible in increasing order (see ``StoredEvent.position``), so a
    reader that asks again with the last position it saw never skips an event.
    """
    return StoredEvent.objects.filter(position__gt=position).order_by("position")


# The transaction-level advisory lock under which every commit that appended events takes its
# log positions (migration 0005's trigger).
POSITION_LOCK = 7_301_190_001


def hold_log_commits() -> None:
    """Inside a transaction: no transaction that appended events can commit until this one
    ends (PostgreSQL; on SQLite writers are serialised anyway). For a reader that must see the
    head and have its own writes visible before any event after that head commits."""
    connection = transaction.get_connection()
    if not connection.in_atomic_block:
        raise RuntimeError("hold_log_commits() must run inside transaction.atomic()")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [POSITION_LOCK])


def head_position() -> int:
    """The last committed position of the log (0 when it is empty)."""
    return StoredEvent.objects.aggregate(head=Max("position"))["head"] or 0
