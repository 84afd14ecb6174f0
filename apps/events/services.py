"""Operator actions on the outbox: retrying dead letters."""

from __future__ import annotations

from collections.abc import Iterable

from apps.events.models import Delivery, DeliveryStatus
from apps.events.runner import Outcome, run_delivery


def retry_dead_letter(delivery_id: int) -> Outcome:
    """Run a dead delivery once more, now. Safe to call twice: a succeeded one is not re-run."""
    return run_delivery(delivery_id, manual=True)


def retry_dead_letters(
    handler: str | None = None, ids: Iterable[int] | None = None
) -> dict[str, int]:
    """Retry every dead delivery (of ``handler``, or among ``ids``); count the outcomes."""
    dead = Delivery.objects.filter(status=DeliveryStatus.DEAD)
    if handler:
        dead = dead.filter(handler=handler)
    if ids is not None:
        dead = dead.filter(id__in=list(ids))
    counts: dict[str, int] = {}
    for delivery_id in dead.order_by("id").values_list("id", flat=True):
        outcome = retry_dead_letter(delivery_id)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts
