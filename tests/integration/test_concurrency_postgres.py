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


def test_payments_of_different_orders_do_not_wait_for_each_other(customer: Any) -> None:
    """The daily revenue a payment adds to is no row that every payment of the day must lock:
    while one payment's transaction is still open, a payment of another order commits."""
    import threading

    from django.db import connection, transaction

    from apps.orders.models import DailyRevenue
    from apps.orders.statistics import order_statistics

    first = create_order(customer)
    second = create_order(customer)
    while second.id.int % DailyRevenue.STRIPES == first.id.int % DailyRevenue.STRIPES:
        second = create_order(customer)
    first_paid_in_open_transaction = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, Any] = {}

    def pay_first_and_hold() -> None:
        try:
            with transaction.atomic():
                apply(first, OrderState.PAID)
                first_paid_in_open_transaction.set()
                release_first.wait(timeout=30)
        except Exception as exc:  # surfaced by the assertions below
            outcome["first"] = exc
        finally:
            connection.close()

    def pay_second() -> None:
        try:
            with transaction.atomic():
                # Waiting on the first payment's locks would fail here instead of hanging.
                with connection.cursor() as cursor:
                    cursor.execute("SET LOCAL lock_timeout = '3s'")
                outcome["second"] = apply(second, OrderState.PAID)
        except Exception as exc:
            outcome["second"] = exc
        finally:
            connection.close()

    holder = threading.Thread(target=pay_first_and_hold)
    holder.start()
    try:
        assert first_paid_in_open_transaction.wait(timeout=30)
        payer = threading.Thread(target=pay_second)
        payer.start()
        payer.join(timeout=30)
        assert isinstance(outcome.get("second"), Order), outcome.get("second")
    finally:
        release_first.set()
        holder.join(timeout=30)
    assert "first" not in outcome, outcome.get("first")
    revenue = order_statistics()["revenue"]
    assert sum(day["paid_orders"] for day in revenue["per_day"]) == 2
    assert revenue["per_currency"] == {"EUR": str(first.total + second.total)}
