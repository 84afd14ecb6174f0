"""Loading and saving the order aggregate."""

from __future__ import annotations

import uuid

from django.db import connection

from apps.orders.models import Order
from shared.exceptions import OrderNotFound


def lock_order(order_id: uuid.UUID) -> Order:
    """Load an order for change, holding its row lock until the transaction ends."""
    rows = Order.objects.filter(id=order_id)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    order = rows.first()
    if order is None:
        raise OrderNotFound(f"Order {order_id} does not exist.", order_id=str(order_id))
    return order
