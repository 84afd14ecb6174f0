"""The read side of orders: what the API lists and shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from apps.events.models import StoredEvent
from apps.orders.events import ORDER_AGGREGATE, TRANSITION_EVENT_TYPES, OrderCreated
from apps.orders.models import Order
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
    """The order's state changes, oldest first, read from its events."""
    relevant = order_events(order_id).filter(
        event_type__in=[OrderCreated.event_type, *TRANSITION_EVENT_TYPES]
    )
    return [
        HistoryEntry(
            from_state=event.payload.get("from_state"),
            to_state=event.payload.get("to_state") or event.payload["state"],
            at=event.occurred_at,
            actor=event.metadata.get("user_id"),
            reason=event.payload.get("reason", ""),
            event_id=event.event_id,
            event_type=event.event_type,
        )
        for event in relevant
    ]
