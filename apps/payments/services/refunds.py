"""Giving money back: refunds (of an amount, of lines, or of everything left) and voids, asked
for or reported by the provider, and a cancelled order's payment released.

Every refund goes through one ledger (``Refund`` rows, ``RefundRequested`` then
``RefundSucceeded`` or ``RefundFailed``). What may still be refunded is the payment's captured
amount less what was refunded and what is being refunded, checked while the order's row and the
payment's row are locked: two refunds racing for the last euro are serialised, and the second
is refused (409) with nothing written.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any, Protocol

from django.db import transaction

from apps.orders.commands import Actor
from apps.orders.models import OrderItem
from apps.payments.commands import (
    RecordRefund,
    RecordRefundResult,
    RefundLine,
    RefundPayment,
    ReleaseCancelledOrderPayment,
    RequestRefund,
    VoidPayment,
)
from apps.payments.errors import (
    RefundExceedsCaptured,
    RefundNotPossible,
    RefundResultConflict,
    ReportedAmountMismatch,
)
from apps.payments.models import Payment, Refund, RefundStatus
from apps.payments.repositories import lock_payment_of, order_of_reference
from apps.payments.services.base import PaymentServiceBase
from apps.payments.state_machine import (
    VOIDABLE,
    PaymentStatus,
    transition,
)
from shared import clock
from shared.exceptions import InvalidCommand
from shared.ids import new_id
from shared.money import Money, format_amount
from shared.observed import observed_command


class GiveBack(Protocol):
    def __call__(
        self, payment: Payment, *, reason: str, actor: Actor, idempotency_key: str | None
    ) -> Any: ...


class MoneyBack(PaymentServiceBase):
    @observed_command
    def request_refund(self, command: RequestRefund) -> Refund:
        """Give back part of a paid order's money, in any state after payment: an amount, or
        lines with quantities (priced as they were sold). Never more than the payment captured
        less what was refunded and what is being refunded (409, nothing written)."""
        if (command.amount is None) == (not command.lines):
            raise InvalidCommand("Give either an amount or lines to refund, not both.")
        with transaction.atomic():
            self.orders.hold(command.order_id)
            payment = lock_payment_of(command.order_id)
            if payment is None or payment.status not in (
                PaymentStatus.SUCCEEDED,
                PaymentStatus.REFUNDED,
            ):
                raise RefundNotPossible(
                    f"Order {command.order_id} has no captured payment.",
                    payment_status=payment.status if payment else None,
                )
            if command.amount is not None:
                amount = Money.parse(command.amount, payment.currency)
                if amount.amount <= 0:
                    raise InvalidCommand("A refund gives back more than nothing.", field="amount")
                lines: list[dict[str, Any]] = []
            else:
                amount, lines = self._priced_lines(payment, command.lines)
            return self._request_refund(
                payment,
                amount=amount,
                lines=lines,
                reason=command.reason,
                actor=command.actor,
                idempotency_key=command.idempotency_key,
            )

    @staticmethod
    def _priced_lines(
        payment: Payment, wanted: tuple[RefundLine, ...]
    ) -> tuple[Money, list[dict[str, Any]]]:
        """The refund's lines at the prices they were sold at, each within what is left of it."""
        ordered: dict[str, int] = defaultdict(int)
        prices: dict[str, set[Decimal]] = defaultdict(set)
        for sku, quantity, unit_price in OrderItem.objects.filter(
            order_id=payment.order_id
        ).values_list("sku", "quantity", "unit_price"):
            ordered[sku] += quantity
            prices[sku].add(unit_price)
        refunded: dict[str, int] = defaultdict(int)
        for earlier in payment.refunds.exclude(status=RefundStatus.FAILED).values_list(
            "lines", flat=True
        ):
            for line in earlier:
                refunded[line["sku"]] += int(line["quantity"])
        asked: dict[str, int] = defaultdict(int)
        for line in wanted:
            asked[line.sku] += line.quantity
        total = Money.zero(payment.currency)
        lines: list[dict[str, Any]] = []
        for sku, quantity in asked.items():
            if sku not in ordered:
                raise InvalidCommand(f"The order has no line {sku!r}.", field="lines", sku=sku)
            if quantity < 1:
                raise InvalidCommand("Refund at least one unit of a line.", field="lines", sku=sku)
            if len(prices[sku]) > 1:
                raise InvalidCommand(
                    f"{sku!r} was sold at different prices in this order; refund an amount.",
                    field="lines",
                    sku=sku,
                )
            left = ordered[sku] - refunded[sku]
            if quantity > left:
                raise RefundExceedsCaptured(
                    f"{quantity} of {sku!r} asked back; {left} of {ordered[sku]} can still be.",
                    sku=sku,
                    refundable_quantity=left,
                )
            line_amount = Money.of(next(iter(prices[sku])), payment.currency).times(quantity)
            total = total + line_amount
            lines.append(
                {
                    "sku": sku,
                    "quantity": quantity,
                    "amount": format_amount(line_amount.amount, payment.currency),
                }
            )
        return total, lines

    @observed_command
    def refund(self, command: RefundPayment) -> Payment:
        """Give back whatever of the order's settled payment is not refunded or being refunded.
        Asking again changes nothing."""
        with transaction.atomic():
            self.orders.hold(command.order_id)
            payment = self._locked(command.order_id)
            if payment.status != PaymentStatus.REFUNDED:
                self._refund_rest(
                    payment,
                    reason=command.reason,
                    actor=command.actor,
                    idempotency_key=command.idempotency_key,
                )
        return payment

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
    def record_refund_result(self, command: RecordRefundResult) -> Refund | None:
        """The provider's outcome of a refund: a refund we asked for succeeds or fails; a success
        we never asked for is a refund made at the provider, recorded as such. The same outcome
        twice changes nothing; the opposite one is a 409."""
        order_id = order_of_reference(command.provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            return self._apply_refund_result(self._locked(order_id), command)

    def _apply_refund_result(self, payment: Payment, command: RecordRefundResult) -> Refund | None:
        refund = (
            payment.refunds.select_for_update()
            .filter(provider_reference=command.refund_reference)
            .first()
        )
        if refund is None:
            if not command.succeeded:
                return None  # nothing was asked for, so nothing is waiting for this
            return self._record_provider_refund(payment, command)
        if command.reported is not None and command.reported != Money.of(
            refund.amount, refund.currency
        ):
            raise ReportedAmountMismatch(
                f"The provider reports {command.reported}; refund {refund.id} is for "
                f"{format_amount(refund.amount, refund.currency)} {refund.currency}.",
                expected_amount=format_amount(refund.amount, refund.currency),
                expected_currency=refund.currency,
            )
        reported = RefundStatus.SUCCEEDED if command.succeeded else RefundStatus.FAILED
        if refund.status == reported:
            return refund
        if refund.status != RefundStatus.REQUESTED:
            raise RefundResultConflict(
                f"Refund {refund.id} already {refund.status}.", current_status=refund.status
            )
        self._settle_refund(
            payment,
            refund,
            succeeded=command.succeeded,
            reason=command.reason,
            actor=command.actor,
            idempotency_key=command.idempotency_key,
        )
        return refund

    def _record_provider_refund(self, payment: Payment, command: RecordRefundResult) -> Refund:
        """Money given back at the provider, not through us: written as a refund that
        succeeded, never beyond what is left to refund."""
        if payment.status != PaymentStatus.SUCCEEDED:
            transition(payment.status, PaymentStatus.REFUNDED)  # raises: says what is allowed
        money = command.reported or Money.of(payment.refundable, payment.currency)
        if money.currency != payment.currency or not 0 < money.amount <= payment.refundable:
            raise ReportedAmountMismatch(
                f"The provider reports a refund of {money}; payment {payment.id} has "
                f"{format_amount(payment.refundable, payment.currency)} {payment.currency} "
                "left to refund.",
                expected_amount=format_amount(payment.refundable, payment.currency),
                expected_currency=payment.currency,
            )
        moment = clock.now()
        refund = Refund(
            id=new_id(),
            payment=payment,
            order_id=payment.order_id,
            amount=money.amount,
            currency=money.currency,
            status=RefundStatus.SUCCEEDED,
            lines=[],
            provider_reference=command.refund_reference,
            reason=command.reason or "refunded at the provider",
            created_at=moment,
            settled_at=moment,
        )
        self._insert_refund(refund)
        self._refunded(
            payment,
            refund,
            pending=payment.amount_refund_pending,
            actor=command.actor,
            idempotency_key=command.idempotency_key,
            initiated_by_provider=True,
        )
        return refund

    @observed_command
    def record_refund(self, command: RecordRefund) -> Payment:
        """The provider reports all of the payment's money given back (``payment.refunded``):
        the refund we asked for under that reference succeeded, or the provider refunded what
        was left on its own. Reporting it twice changes nothing."""
        order_id = order_of_reference(command.provider_reference)
        with transaction.atomic():
            self.orders.hold(order_id)
            payment = self._locked(order_id)
            ours = payment.refunds.filter(provider_reference=command.refund_reference).exists()
            if ours or (payment.status == PaymentStatus.SUCCEEDED and payment.refundable > 0):
                self._apply_refund_result(
                    payment,
                    RecordRefundResult(
                        provider_reference=command.provider_reference,
                        refund_reference=command.refund_reference,
                        succeeded=True,
                        reason=command.reason,
                        actor=command.actor,
                        idempotency_key=command.idempotency_key,
                    ),
                )
            elif payment.status != PaymentStatus.REFUNDED and not payment.amount_refund_pending:
                transition(payment.status, PaymentStatus.REFUNDED)  # raises: says what is allowed
        return payment

    @observed_command
    def release_for_cancelled_order(self, command: ReleaseCancelledOrderPayment) -> Payment | None:
        """A cancelled order's payment: what is left of it refunded if it succeeded, voided if it
        was still open."""
        with transaction.atomic():
            self.orders.hold(command.order_id)
            payment = lock_payment_of(command.order_id)
            if payment is None:
                return None  # none was requested, and none will be: the order is not PENDING
            why = f"order cancelled: {command.reason}" if command.reason else "order cancelled"
            if payment.status == PaymentStatus.SUCCEEDED:
                self._refund_rest(payment, reason=why, actor=command.actor, idempotency_key=None)
            elif payment.status in VOIDABLE:
                self._void(payment, reason=why, actor=command.actor, idempotency_key=None)
        return payment
