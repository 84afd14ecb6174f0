"""Concurrent commands on one order, with real parallel PostgreSQL connections."""

from __future__ import annotations

from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import apply, create_order
from shared.exceptions import ConcurrencyConflict, InvalidStateTransition
from tests.support.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("rounds", range(5))
def test_pay_and_fail_race_has_exactly_one_winner(customer: Any, rounds: int) -> None:
    order = create_order(customer)
    results = race(
        lambda: apply(order, OrderState.PAID),
        lambda: apply(order, OrderState.FAILED),
    )
    winners = [r for r in results if isinstance(r, Order)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert isinstance(losers[0], InvalidStateTransition | ConcurrencyConflict)
    assert losers[0].status == 409
    paid = winners[0].state == OrderState.PAID
    events = list(
        StoredEvent.objects.filter(aggregate_id=order.id)
        .order_by("version")
        .values_list("version", "event_type")
    )
    assert events[:2] == [(1, "OrderCreated"), (2, "OrderPaid" if paid else "PaymentFailed")]
    # The only later change is the shipping handler taking a paid order on (PAID → PROCESSING).
    assert events[2:] == ([(3, "OrderProcessingStarted")] if paid else [])
    row = Order.objects.get(id=order.id)
    assert row.state == (OrderState.PROCESSING if paid else OrderState.FAILED)
    assert row.version == len(events)


def test_many_concurrent_cancels_append_one_event(customer: Any) -> None:
    order = create_order(customer)
    results = race(*[lambda: apply(order, OrderState.CANCELLED) for _ in range(8)])
    assert sum(isinstance(r, Order) for r in results) == 1
    assert all(isinstance(r, Order) or getattr(r, "status", None) == 409 for r in results), results
    assert list(
        StoredEvent.objects.filter(aggregate_id=order.id).values_list("version", flat=True)
    ) == [1, 2]
