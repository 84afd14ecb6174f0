"""Errors of the payments domain (mapped to problem+json like every DomainError)."""

from __future__ import annotations

from collections.abc import Iterable

from shared.exceptions import DomainError, InvalidCommand, NotFound


class PaymentNotFound(NotFound):
    code = "payment_not_found"
    title = "The payment does not exist."


class InvalidPaymentTransition(DomainError):
    status = 409
    code = "invalid_payment_transition"
    title = "The payment cannot make this status change."

    def __init__(self, current_status: str, target_status: str, allowed: Iterable[str]) -> None:
        self.current_status = current_status
        self.target_status = target_status
        super().__init__(
            f"A payment that is {current_status} cannot become {target_status}.",
            current_status=current_status,
            target_status=target_status,
            allowed_statuses=sorted(allowed),
        )


class PaymentResultConflict(DomainError):
    """The provider reports the opposite of what it reported before (success after a decline)."""

    status = 409
    code = "payment_result_conflict"
    title = "The result contradicts the result already recorded for this payment."


class PaymentStepNotSupported(InvalidCommand):
    code = "payment_step_not_supported"
    title = "The payment method has no such step."


class PaymentResultNotExpected(DomainError):
    """A provider result for a payment that is not waiting for one (or not for that one)."""

    status = 409
    code = "payment_result_not_expected"
    title = "The payment is not waiting for this result."


class RefundNotPossible(DomainError):
    """The order has no captured payment to give money back from."""

    status = 409
    code = "refund_not_possible"
    title = "The order has no captured payment to refund."


class RefundExceedsCaptured(DomainError):
    """More would be refunded than the payment captured, less what was refunded or is being."""

    status = 409
    code = "refund_exceeds_captured"
    title = "The refund exceeds what can still be refunded."


class RefundResultConflict(DomainError):
    """The provider reports the opposite of what it reported before about a refund."""

    status = 409
    code = "refund_result_conflict"
    title = "The result contradicts the result already recorded for this refund."


class ReportedAmountMismatch(DomainError):
    """The provider reports a payment of another amount or currency than the one we asked for."""

    status = 422
    code = "webhook_amount_mismatch"  # the code clients already know for it
    title = "The reported amount differs from the payment's amount."
