"""Rebuilding an order from its events (pure Python).

The event log is the source of truth: folding an order's events must give the state, version and
total of the row. ``verify_event_store`` and the tests rely on this.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal

from apps.events.base import DomainEvent
from apps.orders.events import OrderCreated, OrderTransitionEvent
from apps.orders.state_machine import OrderState, transition
from shared.exceptions import InvalidStateTransition


@dataclass(frozen=True)
class OrderSnapshot:
    order_id: uuid.UUID
    customer_id: int
    state: OrderState
    currency: str
    total: Decimal
    version: int
    subtotal: Decimal = Decimal(0)
    shipping_total: Decimal = Decimal(0)


class CorruptEventStream(ValueError):
    """The events cannot have come from the order service (gap, bad transition, no creation)."""


def fold(events: Iterable[tuple[int, DomainEvent]]) -> OrderSnapshot:
    """Fold ``(version, event)`` pairs, oldest first, into the order they describe."""
    snapshot: OrderSnapshot | None = None
    for version, event in events:
        expected = 1 if snapshot is None else snapshot.version + 1
        if version != expected:
            raise CorruptEventStream(f"expected version {expected}, found {version}")
        if isinstance(event, OrderCreated):
            if snapshot is not None:
                raise CorruptEventStream("OrderCreated after the order already exists")
            snapshot = OrderSnapshot(
                order_id=event.aggregate_id,
                customer_id=event.customer_id,
                state=OrderState(event.state),
                currency=event.currency,
                total=event.total,
                subtotal=event.parts[0],
                shipping_total=event.parts[1],
                version=version,
            )
        elif snapshot is None:
            raise CorruptEventStream(f"{event.event_type} before OrderCreated")
        elif isinstance(event, OrderTransitionEvent):
            if event.from_state != snapshot.state:
                raise CorruptEventStream(
                    f"{event.event_type} leaves {event.from_state}, order is {snapshot.state}"
                )
            try:
                state = transition(snapshot.state, event.to_state)
            except InvalidStateTransition as exc:
                raise CorruptEventStream(str(exc)) from exc
            snapshot = replace(snapshot, state=state, version=version)
        else:
            snapshot = replace(snapshot, version=version)
    if snapshot is None:
        raise CorruptEventStream("no events")
    return snapshot
