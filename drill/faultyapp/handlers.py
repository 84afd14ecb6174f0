"""The drill's fault-injecting handlers (imported at start-up like every ``handlers.py``)."""

from __future__ import annotations

import os
from pathlib import Path

from apps.events.base import EventEnvelope
from apps.events.decorators import event_handler
from apps.orders.events import OrderCreated, OrderDelivered, OrderPaid
from apps.orders.models import Order

FLAG_ENV = "OMS_DRILL_FAULT_FLAG"
SABOTAGE_ENV = "OMS_DRILL_SABOTAGE"


class TransientFailure(RuntimeError):
    """What a dependency that is down for a while looks like to a handler."""


@event_handler(OrderCreated, OrderPaid, name="drill.flaky_audit")
class FlakyAudit:
    """Succeeds, except while the drill's flag file exists (a downstream outage)."""

    def handle(self, event: EventEnvelope) -> None:
        flag = os.environ.get(FLAG_ENV, "")
        if flag and Path(flag).exists():
            raise TransientFailure(f"drill: audit sink unavailable ({event.event_type})")


class RewriteDeliveredOrder:
    """Breaks an invariant on purpose: moves a delivered order's row without writing an event."""

    def handle(self, event: EventEnvelope) -> None:
        Order.objects.filter(id=event.aggregate_id).update(state="CANCELLED")


if os.environ.get(SABOTAGE_ENV, "") == "1":
    event_handler(OrderDelivered, name="drill.sabotage")(RewriteDeliveredOrder)
