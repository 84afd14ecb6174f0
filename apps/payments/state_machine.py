"""The payment state machine: pure Python, table-driven, no Django.

REQUESTED  → SUBMITTED | VOIDED
SUBMITTED  → AUTHORIZED | SUCCEEDED | DECLINED | EXPIRED | VOIDED
AUTHORIZED → SUCCEEDED | DECLINED | VOIDED
SUCCEEDED  → REFUNDED
EXPIRED    → SUCCEEDED   (a transfer that arrives after the deadline: taken, then refunded)
VOIDED     → SUCCEEDED   (a capture the provider completed before it saw the void: refunded)
DECLINED, REFUNDED are terminal.
"""

from __future__ import annotations

import enum
from types import MappingProxyType

from apps.payments.errors import InvalidPaymentTransition


class PaymentStatus(enum.StrEnum):
    REQUESTED = "requested"
    SUBMITTED = "submitted"
    AUTHORIZED = "authorized"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    EXPIRED = "expired"
    REFUNDED = "refunded"
    VOIDED = "voided"


S = PaymentStatus

TRANSITIONS: MappingProxyType[PaymentStatus, frozenset[PaymentStatus]] = MappingProxyType(
    {
        S.REQUESTED: frozenset({S.SUBMITTED, S.VOIDED}),
        S.SUBMITTED: frozenset({S.AUTHORIZED, S.SUCCEEDED, S.DECLINED, S.EXPIRED, S.VOIDED}),
        S.AUTHORIZED: frozenset({S.SUCCEEDED, S.DECLINED, S.VOIDED}),
        S.SUCCEEDED: frozenset({S.REFUNDED}),
        S.EXPIRED: frozenset({S.SUCCEEDED}),
        S.VOIDED: frozenset({S.SUCCEEDED}),
        S.DECLINED: frozenset(),
        S.REFUNDED: frozenset(),
    }
)

# Waiting for the provider (or the customer at the provider): a result may still arrive.
AWAITING_PROVIDER = frozenset({S.SUBMITTED, S.AUTHORIZED})
# No money has moved yet: cancelling the order voids these.
VOIDABLE = frozenset({S.REQUESTED, S.SUBMITTED, S.AUTHORIZED})
# We stopped waiting, but the provider may still report money it took; it is given back.
GAVE_UP = frozenset({S.EXPIRED, S.VOIDED})


def can_transition(current: PaymentStatus | str, target: PaymentStatus | str) -> bool:
    return PaymentStatus(target) in TRANSITIONS[PaymentStatus(current)]


def transition(current: PaymentStatus | str, target: PaymentStatus | str) -> PaymentStatus:
    """Return ``target`` if the move is allowed, else raise :class:`InvalidPaymentTransition`."""
    if not can_transition(current, target):
        raise InvalidPaymentTransition(
            current_status=str(current),
            target_status=str(target),
            allowed=[str(status) for status in TRANSITIONS[PaymentStatus(current)]],
        )
    return PaymentStatus(target)
