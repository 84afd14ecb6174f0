"""What every part of the payment service shares: the order service it changes orders
through, loading the payment, creating it, changing its status with its event, and what a
payment's success, decline or refund means for its order."""

from __future__ import annotations

import contextlib
import uuid
from typing import Any

from django.db import IntegrityError, transaction

from apps.events.versioned import create_once, save_change
from apps.orders.commands import Actor, ConfirmPayment, FailPayment
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.payments.errors import (
    PaymentNotFound,
    PaymentResultNotExpected,
)
from apps.payments.events import (
    PaymentDeclined,
    PaymentEvent,
    PaymentRefunded,
    PaymentRequested,
    PaymentSucceeded,
    PaymentVoided,
)
from apps.payments.models import Payment, Refund
from apps.payments.repositories import lock_payment_of
from apps.payments.state_machine import (
    PaymentStatus,
    transition,
)
from apps.payments.strategies import strategy_for
from shared import clock
from shared.exceptions import ConcurrencyConflict, InvalidStateTransition
from shared.ids import new_id
from shared.money import Money, in_currency_places

EXPIRED_REASON = "expired"


class PaymentServiceBase:
    """Locks are always taken in the same order, the order's row first (``OrderService.hold``)
    and then its payment's, so the service never deadlocks with the order commands it calls."""

    def __init__(self) -> None:
        self.orders = OrderService()

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
        # order_id is unique: when the order already has its payment, a twin run won.
        return create_once(
            payment,
            PaymentRequested(
                aggregate_id=payment.id,
                order_id=order.id,
                method=payment.method,
                amount=money.amount,
                currency=money.currency,
            ),
            existing={"order_id": order.id},
            user_id=actor.user_id,
            idempotency_key=idempotency_key,
        )

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
