"""Driving an order from PENDING to DELIVERED through the service, leaving to the registered
handlers the steps they take by themselves (payments and shipping react to order events).

The handlers are subscriptions: they act only when something runs them. ``react`` is that
something (``run_until_idle`` in figure 1); without it no handler runs, and every step is
commanded.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

LIFECYCLE = ("PAID", "PROCESSING", "SHIPPED", "DELIVERED")
RANK = {state: rank for rank, state in enumerate(("PENDING", *LIFECYCLE))}


def commands_by_target(service: Any) -> dict[str, Callable[[Any], Any]]:
    from apps.orders.commands import (
        Actor,
        ConfirmPayment,
        MarkDelivered,
        MarkShipped,
        StartProcessing,
    )

    actor = Actor.system()
    return {
        "PAID": lambda order_id: service.confirm_payment(
            ConfirmPayment(actor=actor, order_id=order_id, payment_reference="bench")
        ),
        "PROCESSING": lambda order_id: service.start_processing(
            StartProcessing(actor=actor, order_id=order_id)
        ),
        "SHIPPED": lambda order_id: service.mark_shipped(
            MarkShipped(actor=actor, order_id=order_id, carrier="DHL", tracking_number="BENCH1")
        ),
        "DELIVERED": lambda order_id: service.mark_delivered(
            MarkDelivered(actor=actor, order_id=order_id)
        ),
    }


def state_of(order_id: Any) -> str:
    from apps.orders.models import Order

    return str(Order.objects.values_list("state", flat=True).get(id=order_id))


def drive_to_delivered(
    order_id: Any,
    commands: dict[str, Callable[[Any], Any]],
    react: Callable[[], Any] | None = None,
) -> list[str]:
    """Issue the commands still needed, step by step, letting ``react`` run the subscriptions
    before each step; the steps that were commanded."""
    commanded: list[str] = []
    for target in LIFECYCLE:
        if react is not None:
            react()
        state = state_of(order_id)
        if state not in RANK:
            raise RuntimeError(f"the lifecycle left the happy path: order is {state}")
        if RANK[state] >= RANK[target]:
            continue
        commands[target](order_id)
        commanded.append(target)
    final = state_of(order_id)
    if final != "DELIVERED":
        raise RuntimeError(f"the lifecycle ended in {final}, not DELIVERED")
    return commanded
