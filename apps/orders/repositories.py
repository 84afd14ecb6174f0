"""Loading and saving the order aggregate."""

from __future__ import annotations

import uuid

from django.db import connection

from apps.orders.models import Order
from shared.exceptions import ConcurrencyConflict, OrderNotFound


def lock_order(order_id: uuid.UUID) -> Order:
    """Load an order for change, holding its row lock until the transaction ends."""
    rows = Order.objects.filter(id=order_id)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    order = rows.first()
    if order is None:
        raise OrderNotFound(f"Order {order_id} does not exist.", order_id=str(order_id))
    return order


def save_transition(order: Order, previous_version: int) -> None:
    """Write the changed state, guarded by the version read, so no change is ever overwritten."""
    updated = Order.objects.filter(id=order.id, version=previous_version).update(
        state=order.state, version=order.version, updated_at=order.updated_at
    )
    if updated != 1:
        raise ConcurrencyConflict(
            f"Order {order.id} was changed concurrently.", order_id=str(order.id)
        )
