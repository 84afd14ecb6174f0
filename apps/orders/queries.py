"""The read side of orders: what the API lists and shows."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from apps.events.models import StoredEvent
from apps.orders import repositories, sections
from apps.orders.models import Order, OrderItem, OrderStateChange, OrderSummary
from apps.orders.state_machine import OrderState
from shared.exceptions import OrderNotFound


def orders_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Order]:
    """Staff see every order; a customer sees only their own."""
    orders = Order.objects.all()
    if not getattr(user, "is_staff", False):
        orders = orders.filter(customer_id=user.pk)
    return orders


def get_order_for(user: AbstractBaseUser | AnonymousUser, order_id: uuid.UUID) -> Order:
    """The order with its items and the other apps' summaries of it (two queries), or
    OrderNotFound, also when it belongs to someone else."""
    # Filtered by primary key: at most one row, so no ORDER BY or LIMIT to compile and run.
    found = list(sections.with_sections(orders_visible_to(user)).filter(id=order_id).order_by())
    if not found:
        raise not_found(order_id)
    order = found[0]
    repositories.attach_items(order, list(OrderItem.objects.filter(order_id=order_id)))
    return order


def ensure_visible(user: AbstractBaseUser | AnonymousUser, order_id: uuid.UUID) -> None:
    """OrderNotFound unless ``user`` may see the order (one query that loads nothing)."""
    if not orders_visible_to(user).filter(id=order_id).exists():
        raise not_found(order_id)


def not_found(order_id: uuid.UUID) -> OrderNotFound:
    return OrderNotFound(f"Order {order_id} does not exist.", order_id=str(order_id))


def order_timeline(order_id: uuid.UUID, aggregate_type: str | None = None) -> QuerySet[StoredEvent]:
    """Every event about the order, its payment's and its shipment's included, in log order.

    They share the order's id as partition key; ``aggregate_type`` narrows to one aggregate.
    """
    events = StoredEvent.objects.filter(partition_key=order_id)
    if aggregate_type:
        events = events.filter(aggregate_type=aggregate_type)
    return events.order_by("sequence")


def order_state_changes(order_id: uuid.UUID) -> QuerySet[OrderStateChange]:
    """The order's state changes from the history projection, oldest first."""
    return OrderStateChange.objects.filter(order_id=order_id).order_by("sequence")


def summaries_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[OrderSummary]:
    """The order summary projection, restricted like :func:`orders_visible_to`."""
    summaries = OrderSummary.objects.all()
    if not getattr(user, "is_staff", False):
        summaries = summaries.filter(customer_id=int(user.pk or 0))
    return summaries


# When an order entered each state it can wait in (the summary's milestone columns).
_ENTERED: dict[str, str] = {
    OrderState.PENDING: "created_at",
    OrderState.PAID: "paid_at",
    OrderState.PROCESSING: "processing_at",
    OrderState.SHIPPED: "shipped_at",
    OrderState.CANCELLED: "cancelled_at",
    OrderState.FAILED: "failed_at",
}


@dataclass(frozen=True)
class WaitingOrder:
    order_id: uuid.UUID
    state: str
    since: datetime


def orders_waiting(
    state: str,
    *,
    entered_before: datetime,
    payment_statuses: Iterable[str] | None = None,
    excluding_payment_methods: Iterable[str] = (),
    limit: int = 500,
) -> list[WaitingOrder]:
    """Orders still in ``state`` that entered it before ``entered_before``, oldest first (from
    the summary: one indexed query)."""
    entered = _ENTERED[state]
    rows = OrderSummary.objects.filter(state=state, **{f"{entered}__lt": entered_before})
    if payment_statuses is not None:
        rows = rows.filter(payment_status__in=list(payment_statuses))
    if excluded := list(excluding_payment_methods):
        rows = rows.exclude(payment_method__in=excluded)
    return [
        WaitingOrder(order_id=order_id, state=state, since=since)
        for order_id, since in rows.order_by(entered).values_list("order_id", entered)[:limit]
    ]


def states_of(order_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    """The current state of each order (from the summary)."""
    return dict(
        OrderSummary.objects.filter(order_id__in=list(order_ids)).values_list("order_id", "state")
    )
