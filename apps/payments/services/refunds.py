"""Giving money back: refunds and voids, asked for or reported by the provider, and a
cancelled order's payment released."""

from __future__ import annotations

import uuid
from typing import Protocol

from django.db import transaction

from apps.orders.commands import Actor
from apps.payments.commands import (
    RecordRefund,
    RefundPayment,
    ReleaseCancelledOrderPayment,
    VoidPayment,
)
from apps.payments.models import Payment
from apps.payments.repositories import lock_payment_of, order_of_reference
from apps.payments.services.base import PaymentServiceBase
from apps.payments.state_machine import (
    VOIDABLE,
    PaymentStatus,
    transition,
)
from shared.observed import observed_command


class GiveBack(Protocol):
    def __call__(
        self, payment: Payment, *, reason: str, actor: Actor, idempotency_key: str | None
    ) -> None: ...


class MoneyBack(PaymentServiceBase):
    @observed_command
    def refund(self, command: RefundPayment) -> Payment:
        """Refund the order's settled payment. Refunding it again changes nothing."""
        return self._give_back(
            command.order_id,
            PaymentStatus.REFUNDED,
            self._refund,
            command.actor,
            command.reason,
            command.idempotency_key,
        )

    @observed_command
    def void(self, command: VoidPayment) -> Payment:
        """Void the order's payment while no money has moved. Voiding it again changes nothing."""
        return self._give_back(
            command.order_id,
            PaymentStatus.VOIDED,
            self._void,
            command.actor,
            command.reason,
            command.idempotency_key,
        )

    def _give_back(
        self,
        order_id: uuid.UUID,
        outcome: PaymentStatus,
        give_back: GiveBack,
        actor: Actor,
        reason: str,
        idempotency_key: str | None,
    ) -> Payment:
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            if payment.status != outcome:
                give_back(payment, reason=reason, actor=actor, idempotency_key=idempotency_key)
        return payment

    @observed_command
    def record_refund(self, command: RecordRefund) -> Payment:
        """The provider reports the payment's money given back: a refund we asked for, or one made
        at the provider. The provider is not asked again; reporting it twice changes nothing.
        """
        order_id = order_of_reference(command.provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            if payment.status != PaymentStatus.REFUNDED:
                transition(payment.status, PaymentStatus.REFUNDED)
                self._record_refund(
                    payment,
                    reference=command.refund_reference,
                    reason=command.reason or "refunded at the provider",
                    actor=command.actor,
                    idempotency_key=command.idempotency_key,
                )
        return payment

    @observed_command
    def release_for_cancelled_order(self, command: ReleaseCancelledOrderPayment) -> Payment | None:
        """A cancelled order's payment: refunded if it succeeded, voided if it was still open."""
        with transaction.atomic():
            self.orders.hold(command.order_id)
            payment = lock_payment_of(command.order_id)
            if payment is None:
                return None  # none was requested, and none will be: the order is not PENDING
            why = f"order cancelled: {command.reason}" if command.reason else "order cancelled"
            if payment.status == PaymentStatus.SUCCEEDED:
                self._refund(payment, reason=why, actor=command.actor, idempotency_key=None)
            elif payment.status in VOIDABLE:
                self._void(payment, reason=why, actor=command.actor, idempotency_key=None)
        return payment
