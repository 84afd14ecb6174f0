"""All 49 (from, to) pairs through the service and the real database."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.orders.models import Order
from apps.orders.state_machine import OrderState, can_transition, transition
from apps.orders.tests.factories import apply, create_order, move_to
from shared.exceptions import InvalidStateTransition

pytestmark = pytest.mark.django_db

PAIRS = list(itertools.product(OrderState, OrderState))


def snapshot(order: Order) -> tuple[Any, ...]:
    row = Order.objects.get(id=order.id)
    events = list(
        StoredEvent.objects.filter(aggregate_id=order.id).values_list("event_type", "version")
    )
    return (row.state, row.version, row.updated_at, events)


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_transition_pair(customer: Any, current: OrderState, target: OrderState) -> None:
    order = move_to(create_order(customer), current)
    assert order.state == current
    before = snapshot(order)
    events_before = StoredEvent.objects.count()

    if can_transition(current, target):
        changed = apply(order, target)
        row = Order.objects.get(id=order.id)
        assert row.state == target == changed.state
        assert row.version == before[1] + 1
        new_events = list(StoredEvent.objects.filter(sequence__gt=0).order_by("sequence"))[
            events_before:
        ]
        assert len(new_events) == 1
        assert new_events[0].version == row.version
        assert new_events[0].payload["from_state"] == current
        assert new_events[0].payload["to_state"] == target
        return

    if target == OrderState.PENDING:
        # No command leads back to PENDING; the machine itself refuses it.
        with pytest.raises(InvalidStateTransition):
            transition(current, target)
    else:
        with pytest.raises(InvalidStateTransition) as info:
            apply(order, target)
        assert info.value.current_state == current
    assert snapshot(order) == before
    assert StoredEvent.objects.count() == events_before
