"""A projection rebuild racing live commands (which apply the projections in their own
transactions), with real parallel PostgreSQL connections."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command

from apps.events.projection import rebuild
from apps.orders.models import Order, OrderSummary
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from tests.support.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("rounds", range(3))
def test_a_rebuild_and_live_commands_neither_deadlock_nor_lose_an_event(
    customer: Any, rounds: int
) -> None:
    for _ in range(20):
        move_to(create_order(customer), OrderState.CANCELLED)

    def live_traffic() -> None:
        for _ in range(5):
            move_to(create_order(customer), OrderState.CANCELLED)

    results = race(lambda: rebuild("order_summary"), live_traffic, live_traffic)
    assert [r for r in results if isinstance(r, Exception)] == []
    assert OrderSummary.objects.count() == Order.objects.count() == 30
    assert set(OrderSummary.objects.values_list("state", flat=True)) == {"CANCELLED"}
    call_command("verify_event_store")
