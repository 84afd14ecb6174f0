"""The payment state machine, without the database."""

from __future__ import annotations

import itertools

import pytest

from apps.payments.errors import InvalidPaymentTransition
from apps.payments.state_machine import TRANSITIONS, PaymentStatus, can_transition, transition

S = PaymentStatus
ALLOWED = {
    (S.REQUESTED, S.SUBMITTED),
    (S.REQUESTED, S.VOIDED),
    (S.SUBMITTED, S.AUTHORIZED),
    (S.SUBMITTED, S.SUCCEEDED),
    (S.SUBMITTED, S.DECLINED),
    (S.SUBMITTED, S.EXPIRED),
    (S.SUBMITTED, S.VOIDED),
    (S.AUTHORIZED, S.SUCCEEDED),
    (S.AUTHORIZED, S.DECLINED),
    (S.AUTHORIZED, S.VOIDED),
    (S.SUCCEEDED, S.REFUNDED),
    (S.EXPIRED, S.SUCCEEDED),
    (S.VOIDED, S.SUCCEEDED),
}
PAIRS = list(itertools.product(PaymentStatus, PaymentStatus))


@pytest.mark.parametrize(("current", "target"), PAIRS, ids=[f"{a}->{b}" for a, b in PAIRS])
def test_exactly_the_documented_moves_are_allowed(current: S, target: S) -> None:
    if (current, target) in ALLOWED:
        assert can_transition(current, target)
        assert transition(current, target) == target
    else:
        with pytest.raises(InvalidPaymentTransition) as info:
            transition(current, target)
        assert info.value.status == 409
        assert info.value.extra["allowed_statuses"] == sorted(TRANSITIONS[current])


def test_declined_and_refunded_are_terminal() -> None:
    assert TRANSITIONS[S.DECLINED] == frozenset()
    assert TRANSITIONS[S.REFUNDED] == frozenset()
