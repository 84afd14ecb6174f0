"""What operators read about outbound webhooks without going through the API (``/metrics``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Min

from apps.outbound.models import MessageStatus, OutboundMessage
from shared import clock


@dataclass(frozen=True)
class Pending:
    count: int
    oldest_seconds: float


def pending() -> Pending:
    # Of enabled endpoints: a disabled one's messages wait for staff, not for the sender.
    found = OutboundMessage.objects.filter(
        status=MessageStatus.PENDING, endpoint__enabled=True
    ).aggregate(count=Count("id"), oldest=Min("created_at"))
    oldest = found["oldest"]
    return Pending(
        count=found["count"],
        oldest_seconds=(clock.now() - oldest).total_seconds() if oldest else 0.0,
    )
