"""The event store and the transactional outbox.

``StoredEvent`` is the append-only log and the source of truth. ``Delivery`` is one row per
(event, subscribed handler), written in the same transaction as the event: the outbox from which
handlers are run, retried and, when they keep failing, parked as dead letters.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from django.db import models

from apps.events.base import EventEnvelope
from shared import clock


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


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    RETRYING = "retrying", "Retrying"
    SUCCEEDED = "succeeded", "Succeeded"
    DEAD = "dead", "Dead"


RUNNABLE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)


class Delivery(models.Model):
    """One handler's obligation to process one event (the outbox row)."""

    id = models.BigAutoField(primary_key=True)
    event = models.ForeignKey(StoredEvent, on_delete=models.PROTECT, related_name="deliveries")
    handler = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    last_error = models.TextField(blank=True, default="")
    last_traceback = models.TextField(blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    succeeded_at = models.DateTimeField(null=True, blank=True)
    dead_at = models.DateTimeField(null=True, blank=True)
    # When a task for it was last handed to the broker: the sweeper does not send it again until
    # a lease has passed, so a backlog does not fill the queue with copies of the same work.
    dispatched_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("id",)
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=("event", "handler"), name="delivery_unique_event_handler"
            ),
        ]
        indexes = [
            # The sweeper's query: runnable deliveries that are due, oldest first.
            models.Index(fields=("status", "next_attempt_at"), name="delivery_due_idx"),
            models.Index(fields=("handler", "status"), name="delivery_handler_status_idx"),
        ]

    def __str__(self) -> str:
        return f"delivery {self.id} of event #{self.event_id} to {self.handler} ({self.status})"

    def mark_succeeded(self, at: datetime | None = None) -> None:
        moment = at or clock.now()
        self.status = DeliveryStatus.SUCCEEDED
        self.attempts += 1
        self.succeeded_at = moment
        self.updated_at = moment
        self.last_error = ""
        self.last_traceback = ""

    def mark_failed(self, error: str, traceback_text: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: schedule the retry at ``retry_at`` or, when None, park it."""
        moment = clock.now()
        self.attempts += 1
        self.last_error = error[:2000]
        self.last_traceback = traceback_text[-20000:]
        self.updated_at = moment
        if retry_at is None:
            self.mark_dead(moment)
        else:
            self.status = DeliveryStatus.RETRYING
            self.next_attempt_at = retry_at

    def mark_dead(self, at: datetime) -> None:
        self.status = DeliveryStatus.DEAD
        self.dead_at = at
        self.updated_at = at

    @staticmethod
    def new(event_sequence: int, handler: str, at: datetime) -> Delivery:
        return Delivery(
            event_id=event_sequence,
            handler=handler,
            next_attempt_at=at,
            created_at=at,
            updated_at=at,
        )
