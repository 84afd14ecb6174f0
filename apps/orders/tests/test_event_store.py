"""The event log is the source of truth: folding it rebuilds the order."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from apps.events import store
from apps.events.models import StoredEvent
from apps.orders.aggregate import CorruptEventStream, fold
from apps.orders.events import ORDER_AGGREGATE, OrderCreated, OrderDelivered, OrderPaid
from apps.orders.models import Order
from apps.orders.queries import order_timeline
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import apply, create_order, move_to
from shared.exceptions import ConcurrencyConflict

pytestmark = pytest.mark.django_db


def order_events(order_id: uuid.UUID) -> Any:
    return order_timeline(order_id, ORDER_AGGREGATE)


def folded(order_id: uuid.UUID) -> Any:
    return fold((e.version, e.envelope().event) for e in order_events(order_id))


@pytest.mark.parametrize("target", list(OrderState))
def test_folding_the_events_reproduces_state_version_and_total(
    customer: Any, target: OrderState
) -> None:
    order = move_to(create_order(customer, items=3), target)
    row = Order.objects.get(id=order.id)
    snapshot = folded(order.id)
    assert (snapshot.state, snapshot.version, snapshot.total, snapshot.currency) == (
        row.state,
        row.version,
        row.total,
        row.currency,
    )


def test_the_stored_envelope_carries_the_seed_fields(customer: Any) -> None:
    order = create_order(customer, idempotency_key="key-1")
    event = StoredEvent.objects.get(aggregate_id=order.id)
    assert event.event_type == "OrderCreated"
    assert event.aggregate_type == "order"
    assert event.idempotency_key == "key-1"
    assert event.occurred_at.tzinfo is not None
    assert set(event.metadata) == {
        "user_id",
        "timestamp",
        "version",
        "correlation_id",
        "causation_id",
    }
    assert event.metadata["user_id"] == customer.pk
    assert event.metadata["version"] == 1
    typed = event.envelope().event
    assert isinstance(typed, OrderCreated)
    assert (typed.subtotal, typed.shipping_total, typed.total) == (
        Decimal("10.00"),
        Decimal("4.90"),
        Decimal("14.90"),
    )
    assert typed.items[0].unit_price == Decimal("10.00")


def test_appending_an_existing_version_is_a_concurrency_conflict(customer: Any) -> None:
    order = apply(create_order(customer), OrderState.PAID)
    stale = OrderPaid(
        aggregate_id=order.id,
        from_state="PENDING",
        to_state="PAID",
        amount=Decimal("1"),
        currency="EUR",
        payment_reference="",
    )
    with pytest.raises(ConcurrencyConflict), transaction.atomic():
        store.append([stale], expected_version=1)
    assert list(order_events(order.id).values_list("version", flat=True)) == [1, 2]


def test_a_gap_or_an_impossible_transition_in_the_log_is_detected(customer: Any) -> None:
    order = create_order(customer)
    created = StoredEvent.objects.get(aggregate_id=order.id).envelope().event
    delivered = OrderDelivered(aggregate_id=order.id, from_state="PENDING", to_state="DELIVERED")
    with pytest.raises(CorruptEventStream):
        fold([(1, created), (3, delivered)])
    with pytest.raises(CorruptEventStream):
        fold([(1, created), (2, delivered)])
