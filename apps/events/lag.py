"""Lag and backlog of the subscriptions: what ``manage.py subscriptions``, the staff API and the
drills read (position, events behind and the oldest one's age, parked and dead counts)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count

from apps.events import subscriptions
from apps.events.models import ParkedEvent, ParkedStatus, SubscriptionCheckpoint
from shared import clock


@dataclass(frozen=True)
class SegmentStatus:
    subscription: str
    segment: int
    position: int
    behind: int  # events of its types and segment after its position
    oldest_behind_seconds: float | None
    parked: int
    dead: int
    updated_at: datetime | None

    def stalled(self, bound_seconds: float, now: datetime) -> bool:
        """Whether events have waited for it longer than ``bound_seconds`` while its checkpoint
        stood still: measured from its oldest waiting event, or from its last move if that came
        later (a segment idle for hours is not stalled by an event that arrived a second ago)."""
        if not self.behind or self.oldest_behind_seconds is None:
            return False
        waiting = self.oldest_behind_seconds
        if self.updated_at is not None:
            waiting = min(waiting, (now - self.updated_at).total_seconds())
        return waiting > bound_seconds


def status(now: datetime | None = None) -> list[SegmentStatus]:
    """Position, backlog, parked and dead counts of every (subscription, segment)."""
    moment = now or clock.now()
    checkpoints = {(c.subscription, c.segment): c for c in SubscriptionCheckpoint.objects.all()}
    counts: dict[tuple[str, int, str], int] = {}
    # Counted by the database, per bucket: resolved dead letters are kept, and are not read.
    grouped = (
        ParkedEvent.objects.filter(status__in=(ParkedStatus.PARKED, ParkedStatus.DEAD))
        .values_list("subscription", "bucket", "status")
        .annotate(number=Count("id"))
        .order_by()
    )
    for name, bucket, state, number in grouped:
        counted = (name, subscriptions.segment_of(bucket), state)
        counts[counted] = counts.get(counted, 0) + number
    result = []
    for key in subscriptions.all_segments():
        checkpoint = checkpoints.get((key.subscription, key.segment)) or SubscriptionCheckpoint(
            subscription=key.subscription,
            segment=key.segment,
            position=subscriptions.start_position(),
        )
        backlog = subscriptions.events_of(checkpoint)
        oldest = backlog.values_list("occurred_at", flat=True).first()
        result.append(
            SegmentStatus(
                subscription=key.subscription,
                segment=key.segment,
                position=checkpoint.position,
                behind=backlog.count(),
                oldest_behind_seconds=(moment - oldest).total_seconds() if oldest else None,
                parked=counts.get((key.subscription, key.segment, ParkedStatus.PARKED), 0),
                dead=counts.get((key.subscription, key.segment, ParkedStatus.DEAD), 0),
                updated_at=checkpoint.updated_at if checkpoint.pk else None,
            )
        )
    return result
