"""Helpers that build orders through the real service."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from apps.orders.commands import (
    Actor,
    CancelOrder,
    ConfirmPayment,
    CreateOrder,
    FailPayment,
    MarkDelivered,
    MarkShipped,
    NewOrderLine,
    StartProcessing,
)
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.orders.state_machine import OrderState

service = OrderService()


def lines(count: int = 1, price: str = "10") -> tuple[NewOrderLine, ...]:
    return tuple(
        NewOrderLine(sku=f"SKU-{i}", name=f"Item {i}", quantity=i + 1, unit_price=Decimal(price))
        for i in range(count)
    )


def create_order(customer: Any, *, items: int = 1, currency: str = "EUR", **extra: Any) -> Order:
    return service.create_order(
        CreateOrder(
            actor=Actor(user_id=customer.pk),
            customer_id=customer.pk,
            currency=currency,
            items=lines(items),
            **extra,
        )
    )


def move_to(order: Order, target: OrderState) -> Order:
    """Drive ``order`` to ``target`` along the shortest valid path of commands."""
    actor = Actor.system()
    paths = {
        OrderState.PENDING: [],
        OrderState.PAID: [OrderState.PAID],
        OrderState.PROCESSING: [OrderState.PAID, OrderState.PROCESSING],
        OrderState.SHIPPED: [OrderState.PAID, OrderState.PROCESSING, OrderState.SHIPPED],
        OrderState.DELIVERED: [
            OrderState.PAID,
            OrderState.PROCESSING,
            OrderState.SHIPPED,
            OrderState.DELIVERED,
        ],
        OrderState.CANCELLED: [OrderState.CANCELLED],
        OrderState.FAILED: [OrderState.FAILED],
    }
    path = paths[target]
    for step in path:
        # Handlers may already have taken some steps (with live dispatch, payment confirmation
        # starts processing): skip the steps the order has already passed.
        current = Order.objects.get(id=order.id)
        reached = OrderState(current.state)
        if reached in path and path.index(reached) >= path.index(step):
            order = current
            continue
        order = apply(current, step, actor)
    return Order.objects.get(id=order.id)


def apply(order: Order, target: OrderState, actor: Actor | None = None) -> Order:
    """Run the command whose purpose is to reach ``target``."""
    actor = actor or Actor.system()
    common: dict[str, Any] = {"actor": actor, "order_id": order.id}
    if target == OrderState.PAID:
        return service.confirm_payment(ConfirmPayment(payment_reference="ref-1", **common))
    if target == OrderState.FAILED:
        return service.fail_payment(FailPayment(reason="card declined", **common))
    if target == OrderState.CANCELLED:
        return service.cancel_order(CancelOrder(reason="changed my mind", **common))
    if target == OrderState.PROCESSING:
        return service.start_processing(StartProcessing(**common))
    if target == OrderState.SHIPPED:
        return service.mark_shipped(MarkShipped(carrier="DHL", tracking_number="TN1", **common))
    if target == OrderState.DELIVERED:
        return service.mark_delivered(MarkDelivered(**common))
    raise ValueError(f"no command leads to {target}")
