"""The payment service: the one place where payments change.

Each public method is one transaction. Locks are always taken in the same order, the order's row
first and then its payment's, so the service never deadlocks with the order commands it calls.
The order row is only locked and read here; orders change through :class:`OrderService`.

A provider result that arrives for an order that can no longer take it never moves the order
backwards: money taken for an order that was cancelled (or failed) meanwhile is refunded.
"""

from __future__ import annotations

import contextlib
import uuid
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction

from apps.events import store
from apps.events.versioned import save_change
from apps.orders import lifecycle
from apps.orders.commands import Actor, ConfirmPayment, FailPayment
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.payments.errors import (
    PaymentNotFound,
    PaymentResultConflict,
    PaymentResultNotExpected,
    PaymentStepNotSupported,
    ReportedAmountMismatch,
)
from apps.payments.events import (
    PaymentAuthorized,
    PaymentDeclined,
    PaymentEvent,
    PaymentExpired,
    PaymentRefunded,
    PaymentRequested,
    PaymentSubmitted,
    PaymentSucceeded,
    PaymentVoided,
)
from apps.payments.models import Payment, Refund
from apps.payments.provider import CaptureStatus
from apps.payments.repositories import lock_payment_of, order_of_reference
from apps.payments.state_machine import (
    AWAITING_PROVIDER,
    GAVE_UP,
    VOIDABLE,
    PaymentStatus,
    transition,
)
from apps.payments.strategies import strategy_for
from shared import clock
from shared.exceptions import ConcurrencyConflict, InvalidStateTransition
from shared.ids import new_id
from shared.money import Money, in_currency_places

EXPIRED_REASON = "expired"


class PaymentService:
    """Requests, submits and settles the payment of an order, and gives money back."""

    def __init__(self) -> None:
        self.orders = OrderService()

    # --- the customer's side ------------------------------------------------------------------

    def request_payment(
        self, *, order_id: uuid.UUID, actor: Actor, idempotency_key: str | None = None
    ) -> Payment | None:
        """The order's payment, requested now if it has none; None when the order is past paying.

        Safe to call twice: the second call finds the payment (and the database refuses a second
        payment for one order even when two calls race).
        """
        with transaction.atomic():
            order = self.orders.hold(order_id)
            existing = lock_payment_of(order_id)
            if existing is not None:
                return existing
            if not lifecycle.awaits_payment(order):
                return None
            return self._create(order, actor, idempotency_key)

    def submit_payment(
        self, *, order_id: uuid.UUID, actor: Actor, idempotency_key: str | None = None
    ) -> Payment:
        """Hand the order's payment to the provider through the order's strategy.

        Submitting again while the provider already has the payment returns it unchanged: the
        customer is never charged twice for one order.
        """
        with transaction.atomic():
            order = self.orders.hold(order_id)
            # Only an order that can still become PAID is worth paying (409 otherwise).
            lifecycle.ensure_can_be_paid(order)
            payment = lock_payment_of(order_id) or self._create(order, actor, idempotency_key)
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
                actor=actor,
                idempotency_key=idempotency_key,
                provider_reference=submission.provider_reference,
                approval_url=submission.approval_url,
                instructions=submission.instructions,
                expires_at=submission.expires_at,
            )
        return payment

    # --- the provider's answers ---------------------------------------------------------------

    def record_result(
        self,
        *,
        provider_reference: str,
        succeeded: bool,
        reason: str = "",
        reported: Money | None = None,
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> Payment:
        """Record the provider's answer: success pays the order, a decline fails it.

        The same answer twice changes nothing; the opposite answer after a settled one is a 409.
        ``reported``: the amount the provider says it took, refused (422) unless it is the
        payment's own, whatever the payment's status.
        """
        order_id = order_of_reference(provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            expected = Money.of(payment.amount, payment.currency)
            if reported is not None and reported != expected:
                raise ReportedAmountMismatch(
                    f"The provider reports {reported}; payment {payment.id} is for {expected}.",
                    expected_amount=str(expected.amount),
                    expected_currency=expected.currency,
                )
            status = PaymentStatus(payment.status)
            if succeeded:
                if status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
                    return payment
                if status == PaymentStatus.DECLINED:
                    raise PaymentResultConflict(
                        f"Payment {payment.id} was declined; a success cannot follow.",
                        current_status=status,
                    )
                if status in GAVE_UP:
                    # Money arrived after we stopped waiting for it: take note and give it back.
                    self._succeed(payment, actor, idempotency_key, late=True)
                    self._refund(
                        payment,
                        reason=f"money arrived after the payment was {status}",
                        actor=actor,
                        idempotency_key=idempotency_key,
                    )
                    return payment
                self._expect_result(payment, status, succeeded=True)
                self._succeed_and_pay_order(payment, actor, idempotency_key)
                return payment

            if status == PaymentStatus.DECLINED or status in GAVE_UP:
                return payment
            if status in (PaymentStatus.SUCCEEDED, PaymentStatus.REFUNDED):
                raise PaymentResultConflict(
                    f"Payment {payment.id} succeeded; a decline cannot follow.",
                    current_status=status,
                )
            self._expect_result(payment, status, succeeded=False)
            self._decline(payment, reason or "declined", actor, idempotency_key)
        return payment

    def authorize(
        self, *, provider_reference: str, actor: Actor, idempotency_key: str | None = None
    ) -> Payment:
        """The customer approved the payment at the provider (wallet): capture the money now.

        Calling it again after a crash or a pending capture asks the provider again with the same
        capture key, so the money is taken at most once.
        """
        order_id = order_of_reference(provider_reference)
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
                        provider_reference=provider_reference,
                    ),
                    actor=actor,
                    idempotency_key=idempotency_key,
                )
            elif payment.status != PaymentStatus.AUTHORIZED:
                transition(payment.status, PaymentStatus.AUTHORIZED)  # raises: says what is allowed
            result = strategy.capture(payment)
            if result.status == CaptureStatus.CAPTURED:
                self._succeed_and_pay_order(payment, actor, idempotency_key)
            elif result.status == CaptureStatus.DECLINED:
                self._decline(payment, result.reason or "capture declined", actor, idempotency_key)
            # PENDING: the payment stays authorized; the provider's answer comes through
            # record_result.
        return payment

    def expire_overdue(self, *, actor: Actor | None = None, now: datetime | None = None) -> int:
        """Expire submitted payments past their deadline and fail their orders ("expired").

        Each payment is expired in its own transaction; returns how many were expired.
        """
        moment = now or clock.now()
        actor = actor or Actor.system()
        due = list(
            Payment.objects.filter(
                status=PaymentStatus.SUBMITTED, expires_at__lte=moment
            ).values_list("order_id", flat=True)
        )
        expired = 0
        for order_id in due:
            with transaction.atomic():
                self.orders.hold(order_id)
                payment = lock_payment_of(order_id)
                if (
                    payment is None
                    or payment.status != PaymentStatus.SUBMITTED
                    or payment.expires_at is None
                    or payment.expires_at > moment
                ):
                    continue  # settled (or moved) since the query above
                self._change(
                    payment,
                    PaymentStatus.EXPIRED,
                    PaymentExpired(
                        aggregate_id=payment.id,
                        order_id=payment.order_id,
                        provider_reference=payment.provider_reference or "",
                        expires_at=payment.expires_at,
                        reason=EXPIRED_REASON,
                    ),
                    actor=actor,
                    idempotency_key=None,
                    failure_reason=EXPIRED_REASON,
                )
                self._fail_order(payment.order_id, EXPIRED_REASON, actor, None)
                expired += 1
        return expired

    # --- giving money back ----------------------------------------------------------------------

    def refund(
        self,
        *,
        order_id: uuid.UUID,
        actor: Actor,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Payment:
        """Refund the order's settled payment. Refunding it again changes nothing."""
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            if payment.status != PaymentStatus.REFUNDED:
                self._refund(payment, reason=reason, actor=actor, idempotency_key=idempotency_key)
        return payment

    def record_refund(
        self,
        *,
        provider_reference: str,
        refund_reference: str,
        reason: str = "",
        actor: Actor,
        idempotency_key: str | None = None,
    ) -> Payment:
        """The provider reports the payment's money given back: a refund we asked for, or one made
        at the provider. The provider is not asked again; reporting it twice changes nothing.
        """
        order_id = order_of_reference(provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            if payment.status != PaymentStatus.REFUNDED:
                transition(payment.status, PaymentStatus.REFUNDED)
                self._record_refund(
                    payment,
                    reference=refund_reference,
                    reason=reason or "refunded at the provider",
                    actor=actor,
                    idempotency_key=idempotency_key,
                )
        return payment

    def void(
        self,
        *,
        order_id: uuid.UUID,
        actor: Actor,
        reason: str = "",
        idempotency_key: str | None = None,
    ) -> Payment:
        """Void the order's payment while no money has moved. Voiding it again changes nothing."""
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            if payment.status != PaymentStatus.VOIDED:
                self._void(payment, reason=reason, actor=actor, idempotency_key=idempotency_key)
        return payment

    def release_for_cancelled_order(
        self, *, order_id: uuid.UUID, actor: Actor, reason: str = ""
    ) -> Payment | None:
        """A cancelled order's payment: refunded if it succeeded, voided if it was still open."""
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = lock_payment_of(order_id)
            if payment is None:
                return None  # none was requested, and none will be: the order is not PENDING
            why = f"order cancelled: {reason}" if reason else "order cancelled"
            if payment.status == PaymentStatus.SUCCEEDED:
                self._refund(payment, reason=why, actor=actor, idempotency_key=None)
            elif payment.status in VOIDABLE:
                self._void(payment, reason=why, actor=actor, idempotency_key=None)
        return payment

    # --- internals ------------------------------------------------------------------------------

    @staticmethod
    def _locked(order_id: uuid.UUID) -> Payment:
        payment = lock_payment_of(order_id)
        if payment is None:
            raise PaymentNotFound(f"Order {order_id} has no payment.", order_id=str(order_id))
        return payment

    def _create(self, order: Order, actor: Actor, idempotency_key: str | None) -> Payment:
        money = Money.of(order.total, order.currency)
        moment = clock.now()
        payment = Payment(
            id=new_id(),
            order_id=order.id,
            amount=money.amount,
            currency=money.currency,
            method=order.payment_method,
            status=PaymentStatus.REQUESTED,
            version=1,
            created_at=moment,
            updated_at=moment,
        )
        try:
            with transaction.atomic():
                payment.save(force_insert=True)
        except IntegrityError:
            # The order already has its payment (order_id is unique): a twin run won.
            return Payment.objects.get(order_id=order.id)
        store.append(
            [
                PaymentRequested(
                    aggregate_id=payment.id,
                    order_id=order.id,
                    method=payment.method,
                    amount=money.amount,
                    currency=money.currency,
                )
            ],
            expected_version=0,
            user_id=actor.user_id,
            idempotency_key=idempotency_key,
        )
        return payment

    def _expect_result(self, payment: Payment, status: PaymentStatus, *, succeeded: bool) -> None:
        if not strategy_for(payment.method).accepts_result(status, succeeded=succeeded):
            outcome = "success" if succeeded else "decline"
            raise PaymentResultNotExpected(
                f"A {payment.method} payment that is {status} cannot take a {outcome}.",
                current_status=status,
                method=payment.method,
            )

    def _succeed(
        self, payment: Payment, actor: Actor, idempotency_key: str | None, *, late: bool = False
    ) -> None:
        self._change(
            payment,
            PaymentStatus.SUCCEEDED,
            PaymentSucceeded(
                aggregate_id=payment.id,
                order_id=payment.order_id,
                provider_reference=payment.provider_reference or "",
                amount=in_currency_places(payment.amount, payment.currency),
                currency=payment.currency,
                late=late,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def _succeed_and_pay_order(
        self, payment: Payment, actor: Actor, idempotency_key: str | None
    ) -> None:
        self._succeed(payment, actor, idempotency_key)
        try:
            self.orders.confirm_payment(
                ConfirmPayment(
                    actor=actor,
                    order_id=payment.order_id,
                    payment_reference=payment.provider_reference or "",
                    idempotency_key=idempotency_key,
                )
            )
        except InvalidStateTransition as exc:
            # The order was cancelled (or failed) while the money was on its way. It must not
            # move backwards, so the money goes back instead.
            self._refund(
                payment,
                reason=f"order is {exc.current_state}",
                actor=actor,
                idempotency_key=idempotency_key,
            )

    def _decline(
        self, payment: Payment, reason: str, actor: Actor, idempotency_key: str | None
    ) -> None:
        self._change(
            payment,
            PaymentStatus.DECLINED,
            PaymentDeclined(
                aggregate_id=payment.id,
                order_id=payment.order_id,
                provider_reference=payment.provider_reference or "",
                reason=reason,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            failure_reason=reason,
        )
        self._fail_order(payment.order_id, reason, actor, idempotency_key)

    def _fail_order(
        self, order_id: uuid.UUID, reason: str, actor: Actor, idempotency_key: str | None
    ) -> None:
        # An order that already left PENDING (cancelled) has nothing left to fail.
        with contextlib.suppress(InvalidStateTransition):
            self.orders.fail_payment(
                FailPayment(
                    actor=actor, order_id=order_id, reason=reason, idempotency_key=idempotency_key
                )
            )

    def _refund(
        self, payment: Payment, *, reason: str, actor: Actor, idempotency_key: str | None
    ) -> None:
        transition(payment.status, PaymentStatus.REFUNDED)  # before the provider is asked
        reference = strategy_for(payment.method).refund(payment)
        self._record_refund(
            payment,
            reference=reference,
            reason=reason,
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def _record_refund(
        self,
        payment: Payment,
        *,
        reference: str,
        reason: str,
        actor: Actor,
        idempotency_key: str | None,
    ) -> None:
        refund = Refund(
            id=new_id(),
            payment=payment,
            amount=in_currency_places(payment.amount, payment.currency),
            currency=payment.currency,
            provider_reference=reference,
            reason=reason,
            created_at=clock.now(),
        )
        try:
            with transaction.atomic():
                refund.save(force_insert=True)
        except IntegrityError as exc:
            # One refund per payment; the provider call above used the same refund key, so the
            # provider did not pay out twice either.
            raise ConcurrencyConflict(
                f"Payment {payment.id} was refunded concurrently.", payment_id=str(payment.id)
            ) from exc
        self._change(
            payment,
            PaymentStatus.REFUNDED,
            PaymentRefunded(
                aggregate_id=payment.id,
                order_id=payment.order_id,
                refund_id=refund.id,
                refund_reference=reference,
                amount=in_currency_places(payment.amount, payment.currency),
                currency=payment.currency,
                reason=reason,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def _void(
        self, payment: Payment, *, reason: str, actor: Actor, idempotency_key: str | None
    ) -> None:
        transition(payment.status, PaymentStatus.VOIDED)  # before the provider is asked
        strategy_for(payment.method).void(payment)
        self._change(
            payment,
            PaymentStatus.VOIDED,
            PaymentVoided(aggregate_id=payment.id, order_id=payment.order_id, reason=reason),
            actor=actor,
            idempotency_key=idempotency_key,
        )

    @staticmethod
    def _change(
        payment: Payment,
        target: PaymentStatus,
        event: PaymentEvent,
        *,
        actor: Actor,
        idempotency_key: str | None,
        **fields: Any,
    ) -> None:
        """Move ``payment`` to ``target``, guarded by the version read, and append ``event``."""
        save_change(
            payment,
            event,
            user_id=actor.user_id,
            idempotency_key=idempotency_key,
            status=transition(payment.status, target),
            **fields,
        )
