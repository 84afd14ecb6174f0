"""Checkout: requesting and submitting an order's payment, and the provider's answers."""

from __future__ import annotations

from django.db import transaction

from apps.orders import lifecycle
from apps.payments.commands import (
    AuthorizePayment,
    RecordPaymentResult,
    RequestPayment,
    SubmitPayment,
)
from apps.payments.errors import (
    PaymentResultConflict,
    PaymentStepNotSupported,
    ReportedAmountMismatch,
)
from apps.payments.events import (
    PaymentAuthorized,
    PaymentSubmitted,
)
from apps.payments.models import Payment
from apps.payments.provider import CaptureStatus
from apps.payments.repositories import lock_payment_of, order_of_reference
from apps.payments.services.base import PaymentServiceBase
from apps.payments.state_machine import (
    AWAITING_PROVIDER,
    GAVE_UP,
    PaymentStatus,
    transition,
)
from apps.payments.strategies import strategy_for
from shared import clock
from shared.money import Money
from shared.observed import observed_command


class Checkout(PaymentServiceBase):
    @observed_command
    def request_payment(self, command: RequestPayment) -> Payment | None:
        """The order's payment, requested now if it has none; None when the order is past paying.

        Safe to call twice: the second call finds the payment (and the database refuses a second
        payment for one order even when two calls race).
        """
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            existing = lock_payment_of(command.order_id)
            if existing is not None:
                return existing
            if not lifecycle.awaits_payment(order):
                return None
            return self._create(order, command.actor, command.idempotency_key)

    @observed_command
    def submit_payment(self, command: SubmitPayment) -> Payment:
        """Hand the order's payment to the provider through the order's strategy.

        Submitting again while the provider already has the payment returns it unchanged: the
        customer is never charged twice for one order.
        """
        with transaction.atomic():
            order = self.orders.hold(command.order_id)
            # Only an order that can still become PAID is worth paying (409 otherwise).
            lifecycle.ensure_can_be_paid(order)
            payment = lock_payment_of(command.order_id) or self._create(
                order, command.actor, command.idempotency_key
            )
            if payment.status in AWAITING_PROVIDER:
                return payment
            submission = strategy_for(payment.method).submit(payment, now=clock.now())
            self._change(
                payment,
                PaymentStatus.SUBMITTED,
                PaymentSubmitted(
                    aggregate_id=payment.id,
                    order_id=payment.order_id,
                    method=payment.method,
                    provider_reference=submission.provider_reference,
                    approval_url=submission.approval_url,
                    instructions=submission.instructions,
                    expires_at=submission.expires_at,
                ),
                actor=command.actor,
                idempotency_key=command.idempotency_key,
                provider_reference=submission.provider_reference,
                approval_url=submission.approval_url,
                instructions=submission.instructions,
                expires_at=submission.expires_at,
            )
        return payment

    @observed_command
    def record_result(self, command: RecordPaymentResult) -> Payment:
        """Record the provider's answer: success pays the order, a decline fails it.

        The same answer twice changes nothing; the opposite answer after a settled one is a 409.
        ``reported``: the amount the provider says it took, refused (422) unless it is the
        payment's own, whatever the payment's status.
        """
        order_id = order_of_reference(command.provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            expected = Money.of(payment.amount, payment.currency)
            if command.reported is not None and command.reported != expected:
                raise ReportedAmountMismatch(
                    f"The provider reports {command.reported}; "
                    f"payment {payment.id} is for {expected}.",
                    expected_amount=str(expected.amount),
                    expected_currency=expected.currency,
                )
            status = PaymentStatus(payment.status)
            if command.succeeded:
                if status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
                    return payment
                if status == PaymentStatus.DECLINED:
                    raise PaymentResultConflict(
                        f"Payment {payment.id} was declined; a success cannot follow.",
                        current_status=status,
                    )
                if status in GAVE_UP:
                    # Money arrived after we stopped waiting for it: take note and give it back.
                    self._succeed(payment, command.actor, command.idempotency_key, late=True)
                    self._refund_rest(
                        payment,
                        reason=f"money arrived after the payment was {status}",
                        actor=command.actor,
                        idempotency_key=command.idempotency_key,
                    )
                    return payment
                self._expect_result(payment, status, succeeded=True)
                self._succeed_and_pay_order(payment, command.actor, command.idempotency_key)
                return payment

            if status == PaymentStatus.DECLINED or status in GAVE_UP:
                return payment
            if status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
                raise PaymentResultConflict(
                    f"Payment {payment.id} succeeded; a decline cannot follow.",
                    current_status=status,
                )
            self._expect_result(payment, status, succeeded=False)
            self._decline(
                payment, command.reason or "declined", command.actor, command.idempotency_key
            )
        return payment

    @observed_command
    def authorize(self, command: AuthorizePayment) -> Payment:
        """The customer approved the payment at the provider (wallet): capture the money now.

        Calling it again after a crash or a pending capture asks the provider again with the same
        capture key, so the money is taken at most once.
        """
        order_id = order_of_reference(command.provider_reference)
        with transaction.atomic():
            order = self.orders.hold(order_id)
            payment = self._locked(order_id)
            strategy = strategy_for(payment.method)
            if not strategy.needs_authorization:
                raise PaymentStepNotSupported(
                    f"A {payment.method} payment has no authorization step.", method=payment.method
                )
            if payment.status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
                return payment
            if payment.status == PaymentStatus.SUBMITTED:
                # Taking money for an order that can no longer be paid would only mean a refund.
                lifecycle.ensure_can_be_paid(order)
                self._change(
                    payment,
                    PaymentStatus.AUTHORIZED,
                    PaymentAuthorized(
                        aggregate_id=payment.id,
                        order_id=payment.order_id,
                        provider_reference=command.provider_reference,
                    ),
                    actor=command.actor,
                    idempotency_key=command.idempotency_key,
                )
            elif payment.status != PaymentStatus.AUTHORIZED:
                transition(payment.status, PaymentStatus.AUTHORIZED)  # raises: says what is allowed
            result = strategy.capture(payment)
            if result.status == CaptureStatus.CAPTURED:
                self._succeed_and_pay_order(payment, command.actor, command.idempotency_key)
            elif result.status == CaptureStatus.DECLINED:
                self._decline(
                    payment,
                    result.reason or "capture declined",
                    command.actor,
                    command.idempotency_key,
                )
            # PENDING: the payment stays authorized; the provider's answer comes through
            # record_result.
        return payment
