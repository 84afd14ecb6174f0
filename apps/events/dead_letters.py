"""Dead letters: an operator's retry of events a subscription gave up on (the staff API, the
admin action and ``manage.py retry_dead_letters``)."""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

from apps.events import subscriptions
from apps.events.models import ParkedEvent, ParkedStatus
from shared import clock


def retry_dead(parked_id: int) -> subscriptions.HandlingOutcome:
    """Run a dead event once more, now, for its subscription (an operator's retry).

    Success marks it resolved (out of the dead letters, kept for the record); a failure leaves it
    dead with the new error. A parked event that is not dead is left to its schedule, and a
    second call after a success finds it resolved: an operator's retry runs the handler once.
    """
    with transaction.atomic():
        rows = ParkedEvent.objects.select_related("event").filter(id=parked_id)
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        parked = rows.first()
        if parked is None or parked.status != ParkedStatus.DEAD:
            return subscriptions.HandlingOutcome.SKIPPED
        error = subscriptions.attempt(parked.subscription, parked.event)
        moment = clock.now()
        if error is None:
            parked.status = ParkedStatus.RESOLVED
            parked.resolved_at = moment
            parked.updated_at = moment
            parked.save(update_fields=["status", "resolved_at", "updated_at"])
            return subscriptions.HandlingOutcome.SUCCEEDED
        subscriptions.record_failure(parked, error, moment, manual=True)
    return subscriptions.HandlingOutcome.DEAD


def retry_dead_letters(
    subscription: str | None = None, ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Retry every dead event (of ``subscription``, or among ``ids``); count the outcomes."""
    dead = ParkedEvent.objects.filter(status=ParkedStatus.DEAD)
    if subscription:
        dead = dead.filter(subscription=subscription)
    if ids is not None:
        dead = dead.filter(id__in=list(ids))
    counts: dict[str, int] = {}
    for parked_id in dead.order_by("position").values_list("id", flat=True):
        outcome = retry_dead(parked_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
