"""Subscriptions: handlers that read the commit-ordered log from a checkpoint.

A subscription is a registered handler (``@event_handler``) and the event types it reads. Its
work is split into ``OMS_SUBSCRIPTION_SEGMENTS`` segments by the events' partition key (for an
order: the order's id), so the events of one order always land in one segment and reach the
handler in log order, and segments can be run by different workers at the same time.

:func:`run_segment` is the one way work gets done, whoever calls it (the embedded worker, a
Celery drain task, a test): claim the segment's checkpoint row (skipping it when another runner
holds it), retry the segment's parked events that are due, then read a batch of new events after
the checkpoint, run each in a savepoint, park what fails, move the checkpoint and commit once.
Nothing is written per event and handler unless the handler fails.

A failed event is **parked** for that subscription with its attempts and the time of its next
attempt (capped, jittered exponential back-off) and the runner goes on. Later events of the same
partition wait behind it (they are parked too, due with it), so an order's events are never
handled out of order; other partitions are not held up. After ``OMS_DELIVERY_MAX_RETRIES``
retries the event is **dead**: it no longer holds its partition back, and waits for an operator
(:func:`apps.events.dead_letters.retry_dead`).

A crash mid-batch rolls the batch back, checkpoint included, and the next runner repeats it:
handlers must be safe to run twice (unique constraints, provider idempotency keys).
"""

from __future__ import annotations

import enum
import logging
import time
import traceback
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, QuerySet
from django.db.models.functions import Mod

from apps.events import store
from apps.events.context import caused_by
from apps.events.models import (
    ParkedEvent,
    ParkedStatus,
    StoredEvent,
    SubscriptionCheckpoint,
)
from apps.events.registry import ALL_EVENTS, registry
from apps.events.retry import current_policy
from shared import clock, log_context, metrics

logger = logging.getLogger(__name__)

WAITING = "waiting for an earlier event of its partition"


class HandlingOutcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # parked, a retry is scheduled
    DEAD = "dead"  # failed and no retry is left, or an operator's retry failed again
    SKIPPED = "skipped"  # not dead, gone, or claimed by another runner


def segments() -> int:
    return max(1, int(settings.OMS_SUBSCRIPTION_SEGMENTS))


def segment_of(bucket: int, count: int | None = None) -> int:
    return bucket % (count or segments())


@dataclass(frozen=True)
class SegmentKey:
    subscription: str
    segment: int


def all_segments() -> list[SegmentKey]:
    count = segments()
    return [SegmentKey(name, segment) for name in registry.names() for segment in range(count)]


# --- running ------------------------------------------------------------------------------------


def run_segment(
    subscription: str, segment: int, *, batch_size: int | None = None, now: datetime | None = None
) -> int:
    """Process one batch of ``subscription``'s ``segment``; returns how many events it handled.

    Zero means there was nothing to do now, or another runner holds the segment.
    """
    size = batch_size or settings.OMS_SUBSCRIPTION_BATCH_SIZE
    moment = now or clock.now()
    with transaction.atomic():
        checkpoint = _claim(subscription, segment)
        if checkpoint is None:
            return 0
        handled = _retry_due_parked(checkpoint, size, moment)
        handled += _read_new(checkpoint, size, moment)
    return handled


def run_until_idle(
    *, max_batches: int = 10_000, until_idle: bool = True, now: datetime | None = None
) -> int:
    """Run every segment of every subscription until none has work due; returns events handled.

    The synchronous runner (tests, ``manage.py subscriptions --drain``): the same code as the
    worker and the Celery tasks, in this process. Parked events not due yet are left for later.
    After ``max_batches`` rounds it raises, unless ``until_idle`` is off (then it just stops).
    """
    total = 0
    for _ in range(max_batches):
        handled = sum(
            run_segment(key.subscription, key.segment, now=now) for key in segments_with_work(now)
        )
        total += handled
        if handled == 0:
            return total
    if until_idle:
        raise RuntimeError(f"subscriptions still had work after {max_batches} rounds")
    return total


def segments_with_work(now: datetime | None = None) -> list[SegmentKey]:
    """The segments that may have work: behind the log's head, or with a parked event due.

    Three queries whatever the number of segments, so an idle runner costs almost nothing; a
    segment that reads nothing moves its checkpoint to the head (see ``_read_new``), so it is not
    asked again until the log grows.
    """
    head = store.head_position()
    positions = {
        (name, segment): position
        for name, segment, position in SubscriptionCheckpoint.objects.values_list(
            "subscription", "segment", "position"
        )
    }
    due = set(
        ParkedEvent.objects.filter(
            status=ParkedStatus.PARKED, next_attempt_at__lte=now or clock.now()
        )
        .values_list("subscription", flat=True)
        .distinct()
    )
    return [
        key
        for key in all_segments()
        if positions.get((key.subscription, key.segment), -1) < head or key.subscription in due
    ]


def _claim(subscription: str, segment: int) -> SubscriptionCheckpoint | None:
    """The segment's checkpoint, locked until commit; None when another runner holds it."""
    rows = SubscriptionCheckpoint.objects.filter(subscription=subscription, segment=segment)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    checkpoint = rows.first()
    if checkpoint is not None:
        return checkpoint
    # First run of this segment: it starts at the head of the log (see ``start_position``).
    SubscriptionCheckpoint.objects.get_or_create(
        subscription=subscription,
        segment=segment,
        defaults={"position": start_position(), "updated_at": clock.now()},
    )
    return rows.first()


def start_position() -> int:
    """Where a subscription seen for the first time starts: the beginning of the log.

    A handler added later reacts to the whole history it subscribes to; handlers are safe to run
    on old events (they are safe to run twice), and an operator who does not want that moves the
    checkpoint with ``manage.py subscriptions --reset-to-head``.
    """
    return 0


def _parked_of(checkpoint: SubscriptionCheckpoint) -> QuerySet[ParkedEvent]:
    """The segment's parked events (not dead) of this subscription."""
    return (
        ParkedEvent.objects.filter(subscription=checkpoint.subscription, status=ParkedStatus.PARKED)
        .annotate(segment=Mod(F("bucket"), segments()))
        .filter(segment=checkpoint.segment)
    )


def events_of_types(subscription: str) -> QuerySet[StoredEvent]:
    """The log's events of the types ``subscription`` reads."""
    types = registry.event_types_of(subscription)
    if ALL_EVENTS in types:
        return StoredEvent.objects.all()
    return StoredEvent.objects.filter(event_type__in=types)


def events_of(checkpoint: SubscriptionCheckpoint) -> QuerySet[StoredEvent]:
    events = events_of_types(checkpoint.subscription).filter(position__gt=checkpoint.position)
    return (
        events.annotate(segment=Mod(F("bucket"), segments()))
        .filter(segment=checkpoint.segment)
        .order_by("position")
    )


def _read_new(checkpoint: SubscriptionCheckpoint, size: int, moment: datetime) -> int:
    # The head is read first: every event at or below it has committed, so the query below sees
    # them all, and when none is this segment's the checkpoint may move up to it.
    head = store.head_position()
    batch = list(events_of(checkpoint)[:size])
    if not batch:
        if head > checkpoint.position:
            checkpoint.position = head
            checkpoint.updated_at = moment
            checkpoint.save(update_fields=["position", "updated_at"])
        return 0
    # A partition with a parked event holds its later events back until then (log order).
    waiting = dict(
        _parked_of(checkpoint)
        .order_by("-next_attempt_at")
        .values_list("partition_key", "next_attempt_at")
    )
    for event in batch:
        if event.partition_key in waiting:
            _park_behind(checkpoint, event, waiting[event.partition_key], moment)
            continue
        error = attempt(checkpoint.subscription, event)
        if error is not None:
            waiting[event.partition_key] = _park(checkpoint, event, error, moment).next_attempt_at
    checkpoint.position = batch[-1].position or checkpoint.position
    checkpoint.updated_at = moment
    checkpoint.save(update_fields=["position", "updated_at"])
    return len(batch)


def _retry_due_parked(checkpoint: SubscriptionCheckpoint, size: int, moment: datetime) -> int:
    """Retry the segment's due parked events, oldest first; each runs only once no earlier
    parked event of its partition is left (an order's events stay in log order)."""
    parked = _parked_of(checkpoint)
    due = list(
        parked.filter(next_attempt_at__lte=moment)
        .select_related("event")
        .order_by("position")[:size]
    )
    if not due:
        return 0
    remaining: dict[uuid.UUID, set[int]] = {}
    for key, position in parked.filter(
        partition_key__in={row.partition_key for row in due}
    ).values_list("partition_key", "position"):
        remaining.setdefault(key, set()).add(position)
    handled = 0
    for row in due:
        if row.position != min(remaining[row.partition_key]):
            continue  # an earlier event of its partition is still parked
        handled += 1
        error = attempt(checkpoint.subscription, row.event)
        if error is None:
            row.delete()
            remaining[row.partition_key].discard(row.position)
            continue
        record_failure(row, error, moment, manual=False)
        followers = ParkedEvent.objects.filter(
            subscription=checkpoint.subscription,
            status=ParkedStatus.PARKED,
            partition_key=row.partition_key,
            position__gt=row.position,
        )
        if row.status == ParkedStatus.DEAD:
            # Given up: it no longer holds its partition back.
            remaining[row.partition_key].discard(row.position)
            followers.update(next_attempt_at=moment)
        else:
            # The events waiting behind it come due with it, not before (they would only be
            # read and skipped, crowding out the due events of other orders).
            followers.update(next_attempt_at=row.next_attempt_at)
    return handled


def attempt(subscription: str, event: StoredEvent) -> BaseException | None:
    """Run the handler on ``event`` in a savepoint; the exception it raised, or None."""
    envelope = event.envelope()
    started = time.perf_counter()
    about = {
        "subscription": subscription,
        "event_type": event.event_type,
        "position": event.position,
    }
    with log_context.bound(
        correlation_id=envelope.correlation_id,
        event_id=envelope.event_id,
        # The partition key is the id of the order an event is about (DomainEvent.partition_key).
        order_id=event.partition_key,
    ):
        try:
            handler = registry.create(subscription)
            with transaction.atomic(), caused_by(envelope.event_id, _uuid(envelope.correlation_id)):
                handler.handle(envelope)
        except Exception as exc:
            metrics.event_deliveries.labels(subscription, "failed").inc()
            logger.warning(
                "%s failed on %s: %s",
                subscription,
                event.event_type,
                f"{type(exc).__name__}: {exc}",
                extra={**about, "outcome": "failed", "duration_ms": _since(started)},
            )
            exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
            return exc
        metrics.event_deliveries.labels(subscription, "succeeded").inc()
        logger.info(
            "%s handled %s",
            subscription,
            event.event_type,
            extra={**about, "outcome": "succeeded", "duration_ms": _since(started)},
        )
    return None


def _since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def _park(
    checkpoint: SubscriptionCheckpoint, event: StoredEvent, error: BaseException, moment: datetime
) -> ParkedEvent:
    parked = _new_parked(checkpoint, event, moment)
    record_failure(parked, error, moment, manual=False)
    return parked


def _park_behind(
    checkpoint: SubscriptionCheckpoint, event: StoredEvent, due: datetime, moment: datetime
) -> None:
    parked = _new_parked(checkpoint, event, moment)
    parked.last_error = WAITING
    parked.next_attempt_at = due
    parked.save(force_insert=True)


def _new_parked(
    checkpoint: SubscriptionCheckpoint, event: StoredEvent, moment: datetime
) -> ParkedEvent:
    return ParkedEvent(
        subscription=checkpoint.subscription,
        event=event,
        bucket=event.bucket,
        partition_key=event.partition_key,
        position=event.position or 0,
        status=ParkedStatus.PARKED,
        attempts=0,
        next_attempt_at=moment,
        created_at=moment,
        updated_at=moment,
    )


def record_failure(
    parked: ParkedEvent, error: BaseException, moment: datetime, *, manual: bool
) -> None:
    retry_at = None
    if not manual:
        retry_at = current_policy().next_attempt_at(parked.attempts + 1, moment)
    parked.mark_failed(
        f"{type(error).__name__}: {error}",
        getattr(error, "__traceback_text__", ""),
        retry_at,
        moment,
    )
    parked.save()


def handle_once(subscription: str, event: StoredEvent) -> HandlingOutcome:
    """Run ``subscription``'s handler on ``event`` now, as the runner does (a savepoint, the
    event as causation), leaving checkpoints and parked events alone: what a redelivery is.
    """
    with transaction.atomic():
        error = attempt(subscription, event)
    return HandlingOutcome.SUCCEEDED if error is None else HandlingOutcome.FAILED


def has_work(key: SegmentKey, now: datetime | None = None) -> bool:
    """Whether the segment has new events or due parked events (what a dispatcher asks)."""
    checkpoint = SubscriptionCheckpoint.objects.filter(
        subscription=key.subscription, segment=key.segment
    ).first() or SubscriptionCheckpoint(
        subscription=key.subscription, segment=key.segment, position=start_position()
    )
    if events_of(checkpoint).exists():
        return True
    return _parked_of(checkpoint).filter(next_attempt_at__lte=now or clock.now()).exists()


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
