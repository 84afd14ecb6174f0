"""What the other apps may ask about an order's place in its lifecycle.

The state machine belongs to the orders app. Payments, shipping and the webhooks adapter question
an order only through these predicates (and change it only through ``OrderService`` commands),
so a change to the lifecycle is made, and reviewed, in this app alone.
"""

from __future__ import annotations

from apps.orders.models import Order
from apps.orders.state_machine import (
    TERMINAL_STATES,
    OrderState,
    can_transition,
    is_terminal,
    transition,
)
from shared.exceptions import InvalidStateTransition

# The forward path of an order; the terminal states CANCELLED and FAILED are off it.
_PROGRESS = (
    OrderState.PENDING,
    OrderState.PAID,
    OrderState.PROCESSING,
    OrderState.SHIPPED,
    OrderState.DELIVERED,
)


def awaits_payment(order: Order) -> bool:
    """Nothing has settled it yet: a payment may still be requested for it."""
    return order.state == OrderState.PENDING


def ensure_can_be_paid(order: Order) -> None:
    """InvalidStateTransition (409) unless the order can still become PAID."""
    transition(order.state, OrderState.PAID)


# What a command would find in an order of ``state`` (its ``allowed_actions``): the same table
# the ensure_* checks and OrderService's commands consult.


def can_be_paid_in(state: str) -> bool:
    return can_transition(state, OrderState.PAID)


def can_be_cancelled_in(state: str) -> bool:
    return can_transition(state, OrderState.CANCELLED)


def can_start_processing_in(state: str) -> bool:
    return can_transition(state, OrderState.PROCESSING)


def can_be_shipped_in(state: str) -> bool:
    return can_transition(state, OrderState.SHIPPED)


def can_be_delivered_in(state: str) -> bool:
    return can_transition(state, OrderState.DELIVERED)


def awaits_processing(order: Order) -> bool:
    """Paid, and nobody has taken it in hand yet."""
    return order.state == OrderState.PAID


def may_be_shipped_later(order: Order) -> bool:
    """Paid or in hand: its shipment may be requested, and a carrier may report it shipped."""
    return order.state in (OrderState.PAID, OrderState.PROCESSING)


def ensure_can_be_shipped(order: Order) -> None:
    """InvalidStateTransition (409) unless the order can become SHIPPED now."""
    transition(order.state, OrderState.SHIPPED)


def ensure_can_be_delivered(order: Order) -> None:
    """InvalidStateTransition (409) unless the order can become DELIVERED now."""
    transition(order.state, OrderState.DELIVERED)


# The states no order leaves (for queries: orders still under way are the others).
SETTLED_STATES: frozenset[str] = frozenset(state.value for state in TERMINAL_STATES)


def is_settled(state: str) -> bool:
    """The order has reached a terminal state: nothing will change it any more."""
    return is_terminal(state)


def came_too_late(error: InvalidStateTransition) -> bool:
    """Whether a refused move was refused because the order had already gone past it (a late
    report) rather than because it had not got there yet (an early one) or never will."""
    current, target = OrderState(error.current_state), OrderState(error.target_state)
    if is_terminal(current):
        return True
    return target in _PROGRESS and _PROGRESS.index(current) >= _PROGRESS.index(target)
