"""Lag and backlog of the subscriptions: what ``manage.py subscriptions``, the staff API and the
drills read (position, events behind and the oldest one's age, parked and dead counts), in a
number of queries that does not grow with the segments: what ``/readyz`` and ``/metrics`` cost."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, F, Min, Q
from django.db.models.functions import Mod

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
    positions: dict[str, dict[int, int]] = {}
    for key in subscriptions.all_segments():
        checkpoint = checkpoints.get((key.subscription, key.segment))
        positions.setdefault(key.subscription, {})[key.segment] = (
            checkpoint.position if checkpoint else subscriptions.start_position()
        )
    result = []
    for name, by_segment in positions.items():
        backlogs = _backlogs(name, by_segment)
        for segment, position in by_segment.items():
            checkpoint = checkpoints.get((name, segment))
            behind, oldest = backlogs.get(segment, (0, None))
            result.append(
                SegmentStatus(
                    subscription=name,
                    segment=segment,
                    position=position,
                    behind=behind,
                    oldest_behind_seconds=(moment - oldest).total_seconds() if oldest else None,
                    parked=counts.get((name, segment, ParkedStatus.PARKED), 0),
                    dead=counts.get((name, segment, ParkedStatus.DEAD), 0),
                    updated_at=checkpoint.updated_at if checkpoint else None,
                )
            )
    return result


def _backlogs(subscription: str, positions: dict[int, int]) -> dict[int, tuple[int, datetime]]:
    """(events behind, the oldest one's time) of each segment of ``subscription`` that has
    any: one query for all its segments, whatever their number."""
    events = subscriptions.events_of_types(subscription).filter(
        position__gt=min(positions.values())
    )
    behind_each = Q()
    for segment, position in positions.items():
        behind_each |= Q(segment=segment, position__gt=position)
    rows = (
        events.annotate(segment=Mod(F("bucket"), subscriptions.segments()))
        .filter(behind_each)
        .values("segment")
        .annotate(behind=Count("sequence"), oldest=Min("occurred_at"))
        .order_by()
    )
    return {row["segment"]: (row["behind"], row["oldest"]) for row in rows}
