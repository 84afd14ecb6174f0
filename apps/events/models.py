"""The event store and the positions of its readers.

``StoredEvent`` is the append-only log and the source of truth. Subscriptions read it in commit
order from a ``SubscriptionCheckpoint`` per segment; an event a handler failed on is a
``ParkedEvent`` (retried, then dead). Nothing is written per (event, handler) on the write path.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models

from apps.events.base import EventEnvelope


class StoredEvent(models.Model):
    """One event in the global log.

    ``sequence`` numbers rows as they are inserted; ``position`` numbers them as their transaction
    commits (given by the database, see migration 0005), so it is the order in which events
    become visible: readers of the log follow ``position``. ``(aggregate_type, aggregate_id,
    version)`` is unique, so two writers that both think they are appending version N cannot
    both succeed.
    """

    sequence = models.BigAutoField(primary_key=True)
    # NULL until the inserting transaction commits; never NULL for a row another session sees.
    position = models.BigIntegerField(null=True, blank=True, unique=True, editable=False)
    event_id = models.UUIDField(unique=True, default=uuid.uuid4, editable=False)
    event_type = models.CharField(max_length=100)
    aggregate_type = models.CharField(max_length=50)
    aggregate_id = models.UUIDField()
    # The stream the event belongs to (DomainEvent.partition_key): an order's id on every event
    # about the order, its payment's and its shipment's included.
    partition_key = models.UUIDField()
    # bucket_of(partition_key), stored so a segment's events are one indexed filter away.
    bucket = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField()
    payload = models.JSONField()
    metadata = models.JSONField()
    # NULL, not "", for "no key": an empty string would be a key like any other.
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)  # noqa: DJ001
    occurred_at = models.DateTimeField()

    class Meta:
        ordering = ("sequence",)
        constraints = [
            models.UniqueConstraint(
                fields=("aggregate_type", "aggregate_id", "version"),
                name="event_unique_aggregate_version",
            ),
        ]
        indexes = [
            models.Index(fields=("event_type", "sequence"), name="event_type_seq_idx"),
            models.Index(fields=("aggregate_id", "sequence"), name="event_aggregate_seq_idx"),
            models.Index(fields=("partition_key", "sequence"), name="event_partition_seq_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.event_type} {self.aggregate_type}:{self.aggregate_id}"

    def envelope(self) -> EventEnvelope:
        """The event as handlers receive it."""
        return EventEnvelope(
            sequence=self.sequence,
            position=self.position,
            event_id=self.event_id,
            event_type=self.event_type,
            aggregate_type=self.aggregate_type,
            aggregate_id=self.aggregate_id,
            partition_key=self.partition_key,
            version=self.version,
            payload=self.payload,
            metadata=self.metadata,
            idempotency_key=self.idempotency_key,
            occurred_at=self.occurred_at,
        )


# Events are spread over this many buckets by partition key; a subscription's segments group
# buckets (segment = bucket mod segments), so any segment count dividing it keeps partitions whole.
PARTITION_BUCKETS = 1024


def bucket_of(partition_key: uuid.UUID) -> int:
    return partition_key.int % PARTITION_BUCKETS


class SubscriptionCheckpoint(models.Model):
    """How far one segment of one subscription has read the log (its last handled position).

    Locked (``SELECT ... FOR UPDATE SKIP LOCKED``) by the runner that processes the segment, so
    two runners never process one segment at once; moved in the transaction of the batch.
    """

    subscription = models.CharField(max_length=200)
    segment = models.PositiveSmallIntegerField()
    position = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField()
    # When a Celery drain task was last sent for it: another is not sent until a lease passes.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("subscription", "segment")
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "segment"), name="checkpoint_unique_segment"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.subscription}[{self.segment}] @ {self.position}"


class ParkedStatus(models.TextChoices):
    PARKED = "parked", "Parked (retried when due)"
    DEAD = "dead", "Dead (waits for an operator)"
    # An operator's retry succeeded: kept, so the dead letter's story can still be read.
    RESOLVED = "resolved", "Resolved by an operator's retry"


class ParkedEvent(models.Model):
    """An event one subscription failed to handle: retried with back-off, then dead.

    Written only on failure (or for an event that waits behind a parked one of its partition);
    a successful automatic retry deletes the row, an operator's marks it resolved. Unique per
    (subscription, event).
    """

    id = models.BigAutoField(primary_key=True)
    subscription = models.CharField(max_length=200)
    event = models.ForeignKey(StoredEvent, on_delete=models.PROTECT, related_name="parked")
    # Copied from the event: the runner finds, orders and blocks by them without a join.
    bucket = models.PositiveSmallIntegerField()
    partition_key = models.UUIDField()
    position = models.BigIntegerField()
    status = models.CharField(
        max_length=10, choices=ParkedStatus.choices, default=ParkedStatus.PARKED
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    dead_at = models.DateTimeField(null=True, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(
                fields=("subscription", "event"), name="parked_unique_subscription_event"
            ),
        ]
        indexes = [
            models.Index(
                fields=("subscription", "status", "next_attempt_at"), name="parked_due_idx"
            ),
            models.Index(fields=("status", "subscription"), name="parked_status_idx"),
        ]

    def __str__(self) -> str:
        return f"event #{self.position} parked for {self.subscription} ({self.status})"

    def mark_failed(
        self, error: str, traceback_text: str, retry_at: datetime | None, at: datetime
    ) -> None:
        """Record a failed attempt: retry at ``retry_at`` or, when None, it is dead."""
        self.attempts += 1
        self.last_error = error[:2000]
        self.last_traceback = traceback_text[-20000:]
        self.updated_at = at
        if retry_at is None:
            self.status = ParkedStatus.DEAD
            self.dead_at = at
        else:
            self.status = ParkedStatus.PARKED
            self.next_attempt_at = retry_at
