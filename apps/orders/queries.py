"""The read side of orders: what the API lists and shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from apps.events.models import StoredEvent
from apps.orders.events import ORDER_AGGREGATE
from apps.orders.models import Order, OrderStateChange, OrderSummary
from shared.exceptions import OrderNotFound


def orders_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Order]:
    """Staff see every order; a customer sees only their own."""
    orders = Order.objects.all()
    if not getattr(user, "is_staff", False):
        orders = orders.filter(customer_id=user.pk)
    return orders


def get_order_for(user: AbstractBaseUser | AnonymousUser, order_id: uuid.UUID) -> Order:
    """The order with its items, or OrderNotFound, also when it belongs to someone else."""
    order = orders_visible_to(user).prefetch_related("items").filter(id=order_id).first()
    if order is None:
        raise OrderNotFound(f"Order {order_id} does not exist.", order_id=str(order_id))
    return order


def order_events(order_id: uuid.UUID) -> QuerySet[StoredEvent]:
    return StoredEvent.objects.filter(
        aggregate_type=ORDER_AGGREGATE, aggregate_id=order_id
    ).order_by("version")


@dataclass(frozen=True)
class HistoryEntry:
    from_state: str | None
    to_state: str
    at: datetime
    actor: Any
    reason: str
    event_id: uuid.UUID
    event_type: str


def order_history(order_id: uuid.UUID) -> list[HistoryEntry]:
    """The order's state changes, oldest first, from the history projection."""
    return [
        HistoryEntry(
            from_state=change.from_state,
            to_state=change.to_state,
            at=change.at,
            actor=change.actor,
            reason=change.reason,
            event_id=change.event_id,
            event_type=change.event_type,
        )
        for change in OrderStateChange.objects.filter(order_id=order_id).order_by("sequence")
    ]


def summaries_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[OrderSummary]:
    """The order summary projection, restricted like :func:`orders_visible_to`."""
    summaries = OrderSummary.objects.all()
    if not getattr(user, "is_staff", False):
        summaries = summaries.filter(customer_id=int(user.pk or 0))
    return summaries
