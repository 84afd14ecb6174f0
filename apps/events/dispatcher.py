"""Handing committed deliveries to the configured backend, and sweeping up the ones left behind.

Backends (``OMS_EVENT_BACKEND``):

* ``inline`` runs deliveries in the committing process right after commit. Retries are run by the
  sweeper of ``manage.py worker``.
* ``celery`` sends one task per delivery. A retry due soon is sent with a countdown; one due later
  is left in the database for the periodic sweeper, so no task waits for hours inside the broker
  (where Redis' visibility timeout would hand it out twice).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Protocol

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from apps.events.models import Delivery, DeliveryStatus
from shared import clock

logger = logging.getLogger(__name__)


class DeliveryBackend(Protocol):
    def dispatch(self, delivery_ids: Sequence[int]) -> None: ...

    def schedule_retry(self, delivery_id: int, at: datetime) -> None: ...


class InlineBackend:
    """Run deliveries in this process, one after the other, in one transaction.

    Each handler still runs in its own savepoint with its own success or failure mark; sharing
    the commit saves one durable commit per delivery. The events they append are dispatched when
    that transaction commits.
    """

    def dispatch(self, delivery_ids: Sequence[int]) -> None:
        from apps.events.runner import run_delivery

        with transaction.atomic():
            for delivery_id in delivery_ids:
                run_delivery(delivery_id)

    def schedule_retry(self, delivery_id: int, at: datetime) -> None:
        """Nothing to do: the worker's sweeper runs the retry when it is due."""


class CeleryBackend:
    """One Celery task per delivery."""

    def dispatch(self, delivery_ids: Sequence[int]) -> None:
        from apps.events.tasks import run_delivery_task

        # One producer (and broker connection) for the whole batch, not one per task.
        with run_delivery_task.app.producer_or_acquire() as producer:
            for delivery_id in delivery_ids:
                run_delivery_task.apply_async(args=(delivery_id,), producer=producer)

    def schedule_retry(self, delivery_id: int, at: datetime) -> None:
        from apps.events.tasks import run_delivery_task

        countdown = max(0.0, (at - clock.now()).total_seconds())
        if countdown <= settings.OMS_CELERY_MAX_COUNTDOWN_SECONDS:
            run_delivery_task.apply_async(args=(delivery_id,), countdown=countdown)
            # The task is in the broker until ``at``: the sweeper's lease starts from then.
            Delivery.objects.filter(id=delivery_id).update(dispatched_at=at)


_BACKENDS: dict[str, type[InlineBackend] | type[CeleryBackend]] = {
    "inline": InlineBackend,
    "celery": CeleryBackend,
}


def backend() -> DeliveryBackend:
    name = settings.OMS_EVENT_BACKEND
    try:
        return _BACKENDS[name]()
    except KeyError:
        raise ValueError(
            f"OMS_EVENT_BACKEND must be one of {sorted(_BACKENDS)}, not {name!r}"
        ) from None


def dispatch_on_commit(delivery_ids: Sequence[int]) -> None:
    """Hand ``delivery_ids`` to the backend once the current transaction commits."""
    ids = list(delivery_ids)

    def dispatch() -> None:
        # The transaction is already committed: a failure here (broker down, database gone) must
        # not turn the caller's success into an error. The rows are safe; the sweeper finds them.
        try:
            backend().dispatch(ids)
        except Exception:
            logger.exception("dispatching deliveries %s failed; the sweeper will retry them", ids)

    transaction.on_commit(dispatch)


def due_delivery_ids(
    limit: int = 500, now: datetime | None = None, *, not_dispatched_since: datetime | None = None
) -> list[int]:
    """Deliveries that should have run by now.

    Retries are due at their ``next_attempt_at``. Pending deliveries are normally run right after
    commit, so the sweeper takes them only after a grace period: then they were lost (the process
    died between commit and dispatch, or a broker dropped the task).
    """
    moment = now or clock.now()
    grace = timedelta(seconds=settings.OMS_SWEEPER_GRACE_SECONDS)
    due = Q(status=DeliveryStatus.RETRYING, next_attempt_at__lte=moment) | Q(
        status=DeliveryStatus.PENDING, next_attempt_at__lte=moment - grace
    )
    if not_dispatched_since is not None:
        due &= Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=not_dispatched_since)
    return list(
        Delivery.objects.filter(due)
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def sweep(limit: int = 500, now: datetime | None = None) -> int:
    """Hand every due delivery to the backend; returns how many were handed over.

    A delivery handed over less than ``OMS_SWEEPER_LEASE_SECONDS`` ago is still on its way (in
    the broker's queue behind others) and is not sent again until the lease has passed.
    """
    moment = now or clock.now()
    lease = timedelta(seconds=settings.OMS_SWEEPER_LEASE_SECONDS)
    ids = due_delivery_ids(limit, moment, not_dispatched_since=moment - lease)
    if ids:
        Delivery.objects.filter(id__in=ids).update(dispatched_at=moment)
        backend().dispatch(ids)
    return len(ids)
