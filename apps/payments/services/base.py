"""What every part of the payment service shares: the order service it changes orders
through, loading the payment, creating it, changing its status with its event, and what a
payment's success, decline or refund means for its order."""

from __future__ import annotations

import contextlib
import uuid
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction

from apps.events.versioned import create_once, save_change
from apps.orders.commands import Actor, ConfirmPayment, FailPayment
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.payments.errors import (
    PaymentNotFound,
    PaymentResultNotExpected,
    RefundExceedsCaptured,
)
from apps.payments.events import (
    PaymentDeclined,
    PaymentEvent,
    PaymentRefunded,
    PaymentRequested,
    PaymentSucceeded,
    PaymentVoided,
    RefundFailed,
    RefundRequested,
    RefundSucceeded,
)
from apps.payments.models import Payment, Refund, RefundStatus
from apps.payments.provider import RefundOutcome
from apps.payments.repositories import lock_payment_of
from apps.payments.state_machine import (
    PaymentStatus,
    transition,
)
from apps.payments.strategies import strategy_for
from shared import clock
from shared.exceptions import ConcurrencyConflict, InvalidStateTransition
from shared.ids import new_id
from shared.money import Money, format_amount, in_currency_places

EXPIRED_REASON = "expired"
_REFUND_IDS = uuid.UUID("8b3f0a52-6c1e-4d7a-9f25-3e4c1b7d9a60")


def refund_id_for(payment: Payment, amount: Money) -> uuid.UUID:
    """The id of a refund of ``amount`` asked of ``payment`` as it is now: the same for the
    same request made again after a rollback (nothing it wrote stayed, so the version is the
    same), another for any refund asked after one was written (which moved the version)."""
    return uuid.uuid5(_REFUND_IDS, f"{payment.id}:{payment.version}:{amount.amount}")


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
            self._refund_rest(
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

    def _refund_rest(
        self, payment: Payment, *, reason: str, actor: Actor, idempotency_key: str | None
    ) -> Refund | None:
        """Ask back whatever of the payment is neither refunded nor being refunded: what a
        cancellation, or money that arrived too late, does. None when nothing is left."""
        transition(payment.status, PaymentStatus.REFUNDED)  # only a settled payment has any
        rest = payment.refundable
        if rest <= 0:
            return None
        return self._request_refund(
            payment,
            amount=Money.of(in_currency_places(rest, payment.currency), payment.currency),
            lines=[],
            reason=reason,
            actor=actor,
            idempotency_key=idempotency_key,
        )

    def _request_refund(
        self,
        payment: Payment,
        *,
        amount: Money,
        lines: list[dict[str, Any]],
        reason: str,
        actor: Actor,
        idempotency_key: str | None,
    ) -> Refund:
        """Ask the provider for ``amount`` back and write the refund (``RefundRequested``), and
        its outcome when the provider answers at once. The caller holds the order's and the
        payment's locks, so the check against what is left cannot race another refund."""
        refundable = payment.refundable
        if amount.amount > refundable:
            left = format_amount(refundable, payment.currency)
            raise RefundExceedsCaptured(
                f"Refunding {amount} would exceed what payment {payment.id} captured: "
                f"{left} {payment.currency} can still be refunded.",
                refundable=left,
                currency=payment.currency,
            )
        refund = Refund(
            id=refund_id_for(payment, amount),
            payment=payment,
            order_id=payment.order_id,
            amount=amount.amount,
            currency=amount.currency,
            status=RefundStatus.REQUESTED,
            lines=lines,
            reason=reason,
            created_at=clock.now(),
        )
        # Asked before anything is written: a provider that fails leaves nothing behind. The
        # refund's id, and so the provider's key, is derived from the payment's version and the
        # amount: a request repeated after a rollback (a redelivered handler, a retried request)
        # is the same refund to the provider, never a second payout.
        submission = strategy_for(payment.method).refund(
            payment, amount=amount, refund_id=refund.id
        )
        refund.provider_reference = submission.reference
        self._insert_refund(refund)
        self._save(
            payment,
            RefundRequested(
                aggregate_id=payment.id,
                order_id=payment.order_id,
                refund_id=refund.id,
                refund_reference=submission.reference,
                amount=amount.amount,
                currency=amount.currency,
                lines=lines,
                reason=reason,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            amount_refund_pending=payment.amount_refund_pending + amount.amount,
        )
        if submission.outcome != RefundOutcome.PENDING:
            self._settle_refund(
                payment,
                refund,
                succeeded=submission.outcome == RefundOutcome.SUCCEEDED,
                reason=submission.reason,
                actor=actor,
                idempotency_key=idempotency_key,
            )
        return refund

    @staticmethod
    def _insert_refund(refund: Refund) -> None:
        try:
            with transaction.atomic():
                refund.save(force_insert=True)
        except IntegrityError as exc:
            # The provider's reference is unique: it answered a refund it already made.
            raise ConcurrencyConflict(
                f"The provider already knows refund {refund.provider_reference}.",
                refund_reference=refund.provider_reference,
            ) from exc

    def _settle_refund(
        self,
        payment: Payment,
        refund: Refund,
        *,
        succeeded: bool,
        reason: str,
        actor: Actor,
        idempotency_key: str | None,
    ) -> None:
        """The provider's outcome of a refund we asked for: the money is back, or it is not
        (and may be asked for again)."""
        amount = refund.amount
        refund.settled_at = clock.now()
        reference = refund.provider_reference or ""
        pending = payment.amount_refund_pending - amount
        if not succeeded:
            refund.status = RefundStatus.FAILED
            refund.failure_reason = (reason or "refused by the provider")[:500]
            refund.save(update_fields=["status", "failure_reason", "settled_at"])
            self._save(
                payment,
                RefundFailed(
                    aggregate_id=payment.id,
                    order_id=payment.order_id,
                    refund_id=refund.id,
                    refund_reference=reference,
                    amount=in_currency_places(amount, refund.currency),
                    currency=refund.currency,
                    reason=refund.failure_reason,
                ),
                actor=actor,
                idempotency_key=idempotency_key,
                amount_refund_pending=pending,
            )
            return
        refund.status = RefundStatus.SUCCEEDED
        refund.save(update_fields=["status", "settled_at"])
        self._refunded(
            payment, refund, pending=pending, actor=actor, idempotency_key=idempotency_key
        )

    def _refunded(
        self,
        payment: Payment,
        refund: Refund,
        *,
        pending: Decimal,
        actor: Actor,
        idempotency_key: str | None,
        initiated_by_provider: bool = False,
    ) -> None:
        """Record ``refund`` as money given back; the payment is REFUNDED once all of it is."""
        refunded = payment.amount_refunded + refund.amount
        reference = refund.provider_reference or ""
        self._save(
            payment,
            RefundSucceeded(
                aggregate_id=payment.id,
                order_id=payment.order_id,
                refund_id=refund.id,
                refund_reference=reference,
                amount=in_currency_places(refund.amount, refund.currency),
                currency=refund.currency,
                refunded_total=in_currency_places(refunded, refund.currency),
                initiated_by_provider=initiated_by_provider,
                reason=refund.reason,
            ),
            actor=actor,
            idempotency_key=idempotency_key,
            amount_refunded=refunded,
            amount_refund_pending=pending,
        )
        if refunded >= payment.amount and payment.status == PaymentStatus.SUCCEEDED:
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
                    reason=refund.reason,
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
    def _save(
        payment: Payment,
        event: PaymentEvent,
        *,
        actor: Actor,
        idempotency_key: str | None,
        **fields: Any,
    ) -> None:
        """Write ``fields`` to ``payment`` (its status unchanged) and append ``event``."""
        save_change(
            payment, event, user_id=actor.user_id, idempotency_key=idempotency_key, **fields
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
