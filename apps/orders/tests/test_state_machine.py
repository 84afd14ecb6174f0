"""The state machine alone: pure Python, no database."""

from __future__ import annotations

import itertools

import pytest

from apps.orders.state_machine import (
    TERMINAL_STATES,
    OrderState,
    allowed_transitions,
    can_transition,
    transition,
)
from shared.exceptions import InvalidStateTransition

VALID = {
    (OrderState.PENDING, OrderState.PAID),
    (OrderState.PENDING, OrderState.CANCELLED),
    (OrderState.PENDING, OrderState.FAILED),
    (OrderState.PAID, OrderState.PROCESSING),
    (OrderState.PAID, OrderState.CANCELLED),
    (OrderState.PROCESSING, OrderState.SHIPPED),
    (OrderState.SHIPPED, OrderState.DELIVERED),
}
ALL_PAIRS = list(itertools.product(OrderState, OrderState))


def test_the_table_has_exactly_the_seven_transitions_of_the_specification() -> None:
    table = {(s, t) for s in OrderState for t in allowed_transitions(s)}
    assert table == VALID
    assert len(ALL_PAIRS) == 49


@pytest.mark.parametrize(("current", "target"), ALL_PAIRS)
def test_every_pair_is_allowed_only_if_it_is_in_the_table(
    current: OrderState, target: OrderState
) -> None:
    if (current, target) in VALID:
        assert can_transition(current, target)
        assert transition(current, target) == target
    else:
        assert not can_transition(current, target)
        with pytest.raises(InvalidStateTransition) as info:
            transition(current, target)
        assert info.value.current_state == current
        assert info.value.allowed_transitions == sorted(allowed_transitions(current))


def test_delivered_cancelled_and_failed_are_terminal() -> None:
    assert {OrderState.DELIVERED, OrderState.CANCELLED, OrderState.FAILED} == TERMINAL_STATES


def test_unknown_state_names_are_rejected() -> None:
    with pytest.raises(ValueError, match="REFUNDED"):
        can_transition("PENDING", "REFUNDED")
