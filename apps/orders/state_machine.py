"""The order state machine: pure Python, table-driven, no Django.

PENDING    → PAID | CANCELLED | FAILED
PAID       → PROCESSING | CANCELLED
PROCESSING → SHIPPED
SHIPPED    → DELIVERED
DELIVERED, CANCELLED, FAILED are terminal.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from shared.exceptions import InvalidStateTransition


class OrderState(enum.StrEnum):
    PENDING = "PENDING"
    PAID = "PAID"
    PROCESSING = "PROCESSING"
    SHIPPED = "SHIPPED"
    DELIVERED = "DELIVERED"
    CANCELLED = "CANCELLED"
    FAILED = "FAILED"


TRANSITIONS: MappingProxyType[OrderState, frozenset[OrderState]] = MappingProxyType(
    {
        OrderState.PENDING: frozenset({OrderState.PAID, OrderState.CANCELLED, OrderState.FAILED}),
        OrderState.PAID: frozenset({OrderState.PROCESSING, OrderState.CANCELLED}),
        OrderState.PROCESSING: frozenset({OrderState.SHIPPED}),
        OrderState.SHIPPED: frozenset({OrderState.DELIVERED}),
        OrderState.DELIVERED: frozenset(),
        OrderState.CANCELLED: frozenset(),
        OrderState.FAILED: frozenset(),
    }
)

INITIAL_STATE = OrderState.PENDING
TERMINAL_STATES = frozenset(state for state, targets in TRANSITIONS.items() if not targets)


def allowed_transitions(state: OrderState | str) -> frozenset[OrderState]:
    return TRANSITIONS[OrderState(state)]


def can_transition(current: OrderState | str, target: OrderState | str) -> bool:
    return OrderState(target) in TRANSITIONS[OrderState(current)]


def is_terminal(state: OrderState | str) -> bool:
    return OrderState(state) in TERMINAL_STATES


def transition(current: OrderState | str, target: OrderState | str) -> OrderState:
    """Return ``target`` if the move is allowed, else raise :class:`InvalidStateTransition`."""
    if not can_transition(current, target):
        raise InvalidStateTransition(
            current_state=str(current),
            target_state=str(target),
            allowed=[str(state) for state in allowed_transitions(current)],
        )
    return OrderState(target)
