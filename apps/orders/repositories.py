"""Loading and saving the order aggregate."""

from __future__ import annotations

import uuid

from django.db import connection

from apps.orders.models import Order, OrderItem
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


def attach_items(order: Order, items: list[OrderItem]) -> None:
    """Give ``order`` the items just written with it, as ``prefetch_related("items")`` would.

    Reading back rows the transaction itself wrote costs a round trip and returns nothing new;
    this stores them where Django keeps prefetched rows (the same two attributes its
    ``prefetch_related_objects`` sets), so ``order.items.all()`` answers without a query.
    """
    for item in items:
        item.order = order  # what each item's representation reads (the currency) is at hand
    cached = order.items.all()
    cached._result_cache = items
    cached._prefetch_done = True  # type: ignore[attr-defined]
    if not hasattr(order, "_prefetched_objects_cache"):
        order._prefetched_objects_cache = {}  # type: ignore[attr-defined]
    order._prefetched_objects_cache["items"] = cached  # type: ignore[attr-defined]
