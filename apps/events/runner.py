"""Running one delivery: claim it, run its handler, record the outcome.

The delivery row is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (on PostgreSQL) and the
handler runs inside the same transaction, in a savepoint. So the handler's own writes and the
``succeeded`` mark commit together or not at all, a second worker that races for the same row skips
it, and a delivery that already succeeded is never run again by the machinery. Handlers still have
to tolerate a second run, because a crash between their external side effect and the commit can
make one happen.
"""

from __future__ import annotations

import enum
import logging
import traceback
import uuid
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from apps.events.context import caused_by
from apps.events.models import RUNNABLE_STATUSES, Delivery, DeliveryStatus
from apps.events.registry import registry
from apps.events.retry import current_policy
from shared import clock

logger = logging.getLogger(__name__)


class DeferDelivery(Exception):
    """Raised by a handler whose event arrived before the one it depends on.

    The runner tries again after ``retry_in_seconds`` without counting an attempt, for up to
    ``OMS_DELIVERY_MAX_DEFER_SECONDS`` after the delivery was created; after that it is an
    ordinary failure, retried and finally dead.
    """

    def __init__(self, message: str, retry_in_seconds: float = 1.0) -> None:
        super().__init__(message)
        self.retry_in_seconds = retry_in_seconds


SUCCESS_FIELDS = (
    "status",
    "attempts",
    "succeeded_at",
    "updated_at",
    "last_error",
    "last_traceback",
)


class Outcome(enum.StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # a retry is scheduled
    DEAD = "dead"  # failed and no retry is left, or a manual retry failed again
    SKIPPED = "skipped"  # already done, not due, gone, or claimed by another worker


def _claim(delivery_id: int) -> Delivery | None:
    rows = Delivery.objects.select_related("event").filter(id=delivery_id)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True, of=("self",))
    return rows.first()


def run_delivery(delivery_id: int, *, manual: bool = False) -> Outcome:
    """Run one delivery now if it is runnable.

    ``manual`` is an operator's retry of a dead delivery: it runs a dead delivery once more, and a
    failure leaves it dead with the new error instead of scheduling more retries. A delivery that
    is not dead is left to the normal schedule (an operator cannot spend its retry budget).
    """
    with transaction.atomic():
        delivery = _claim(delivery_id)
        if delivery is None:
            return Outcome.SKIPPED
        if manual:
            if delivery.status != DeliveryStatus.DEAD:
                return Outcome.SKIPPED
        elif delivery.status not in RUNNABLE_STATUSES or delivery.next_attempt_at > clock.now():
            return Outcome.SKIPPED
        envelope = delivery.event.envelope()
        try:
            handler = registry.create(delivery.handler)
            with transaction.atomic(), caused_by(envelope.event_id, _uuid(envelope.correlation_id)):
                handler.handle(envelope)
        except DeferDelivery as exc:
            if not manual and not _deferred_too_long(delivery):
                return _defer(delivery, exc)
            return _record_failure(delivery, exc, manual=manual)
        except Exception as exc:
            return _record_failure(delivery, exc, manual=manual)
        delivery.mark_succeeded()
        delivery.save(update_fields=SUCCESS_FIELDS)
    return Outcome.SUCCEEDED


def _deferred_too_long(delivery: Delivery) -> bool:
    limit = timedelta(seconds=settings.OMS_DELIVERY_MAX_DEFER_SECONDS)
    return clock.now() - delivery.created_at > limit


def _defer(delivery: Delivery, exc: DeferDelivery) -> Outcome:
    """Try again soon without spending an attempt: the event came before what it depends on."""
    moment = clock.now()
    delivery.status = DeliveryStatus.RETRYING
    delivery.next_attempt_at = moment + timedelta(seconds=exc.retry_in_seconds)
    delivery.last_error = f"deferred: {exc}"[:2000]
    delivery.updated_at = moment
    delivery.save()
    delivery_id, at = delivery.id, delivery.next_attempt_at
    transaction.on_commit(lambda: _schedule_retry(delivery_id, at))
    return Outcome.FAILED


def _record_failure(delivery: Delivery, exc: Exception, *, manual: bool) -> Outcome:
    error = f"{type(exc).__name__}: {exc}"
    trace = traceback.format_exc()
    retry_at = None
    if not manual:
        retry_at = current_policy().next_attempt_at(delivery.attempts + 1, clock.now())
    delivery.mark_failed(error, trace, retry_at)
    delivery.save()
    logger.warning(
        "delivery %s (%s of event #%s) failed on attempt %s: %s",
        delivery.id,
        delivery.handler,
        delivery.event_id,
        delivery.attempts,
        error,
    )
    if delivery.status == DeliveryStatus.DEAD:
        return Outcome.DEAD
    # The backend may want to enqueue the retry (Celery with a short countdown); after commit,
    # so that the retry never sees the row before this failure is recorded.
    delivery_id, moment = delivery.id, delivery.next_attempt_at
    transaction.on_commit(lambda: _schedule_retry(delivery_id, moment))
    return Outcome.FAILED


def _schedule_retry(delivery_id: int, at: datetime) -> None:
    from apps.events.dispatcher import backend

    try:
        backend().schedule_retry(delivery_id, at)
    except Exception:
        # The retry is recorded in the row; the sweeper runs it if the broker cannot take it.
        logger.exception("could not schedule the retry of delivery %s", delivery_id)


def _uuid(value: str | None) -> uuid.UUID | None:
    return uuid.UUID(value) if value else None
