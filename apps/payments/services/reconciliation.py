"""Reconciliation: what the provider knows about our payments and we missed.

A webhook can be lost for good (the provider gave up after an outage). Reconciliation asks the
provider about each open or recent payment (``fetch_payment``) and applies what it knows through
the same service calls its webhooks would have made, so whatever was already applied (by the
webhook that did arrive, or by an earlier run) changes nothing: running it twice applies nothing
twice. It never writes without the provider's word; what it cannot decide it reports.
"""

from __future__ import annotations

import functools
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Case, Q, Value, When

from apps.orders.commands import Actor
from apps.payments.commands import AuthorizePayment, RecordPaymentResult, RecordRefundResult
from apps.payments.models import Payment, RefundStatus
from apps.payments.provider import (
    ProviderPayment,
    ProviderPaymentStatus,
    RefundOutcome,
    payment_provider,
)
from apps.payments.services.checkout import Checkout
from apps.payments.services.refunds import MoneyBack
from apps.payments.state_machine import AWAITING_PROVIDER, GAVE_UP, PaymentStatus
from shared import clock
from shared.exceptions import DomainError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Correction:
    """One thing reconciliation applied (or could not)."""

    order_id: uuid.UUID
    payment_id: uuid.UUID
    action: str  # "payment succeeded", "payment failed", "authorized", "refund succeeded", ...
    detail: str = ""
    applied: bool = True

    def as_dict(self) -> dict[str, str | bool]:
        return {
            "order_id": str(self.order_id),
            "payment_id": str(self.payment_id),
            "action": self.action,
            "detail": self.detail,
            "applied": self.applied,
        }


@dataclass
class ReconciliationReport:
    checked: int = 0
    corrections: list[Correction] = field(default_factory=list)

    @property
    def applied(self) -> list[Correction]:
        return [c for c in self.corrections if c.applied]

    @property
    def refused(self) -> list[Correction]:
        return [c for c in self.corrections if not c.applied]


class Reconciliation(Checkout, MoneyBack):
    """Applies the provider's answers through checkout's and refunds' own calls."""

    def reconcile(
        self, *, since: timedelta | None = None, now: datetime | None = None, limit: int = 1000
    ) -> ReconciliationReport:
        """Compare open payments, payments changed within ``since`` (default
        ``OMS_RECONCILE_WINDOW_HOURS``) and payments with refunds under way with the provider."""
        moment = now or clock.now()
        window = (
            since if since is not None else timedelta(hours=settings.OMS_RECONCILE_WINDOW_HOURS)
        )
        waiting = Q(status__in=[*AWAITING_PROVIDER]) | Q(amount_refund_pending__gt=0)
        candidates = (
            Payment.objects.filter(provider_reference__isnull=False)
            .filter(waiting | Q(updated_at__gte=moment - window))
            # What waits for the provider first, then the most recently changed: a busy window
            # never keeps an unanswered payment or refund out of a run.
            .annotate(waits=Case(When(waiting, then=Value(0)), default=Value(1)))
            .order_by("waits", "-updated_at", "id")
            .values_list("order_id", "id")[:limit]
        )
        report = ReconciliationReport()
        for order_id, payment_id in list(candidates):
            report.checked += 1
            try:
                report.corrections.extend(self.reconcile_order(order_id))
            except Exception as exc:
                # The provider could not be asked (a network error): reported, and the next
                # payment is tried all the same.
                logger.exception("reconciliation of order %s failed", order_id)
                report.corrections.append(
                    Correction(order_id, payment_id, "ask the provider", f"{exc}", applied=False)
                )
        return report

    def reconcile_order(self, order_id: uuid.UUID) -> list[Correction]:
        """Ask the provider about the order's payment and apply what it knows and we missed."""
        payment = Payment.objects.filter(order_id=order_id).first()
        if payment is None or not payment.provider_reference:
            return []
        known = payment_provider().fetch_payment(reference=payment.provider_reference)
        if known is None:
            return []
        corrections = self._payment_outcome(payment, known)
        corrections += self._refunds(payment, known)
        for correction in corrections:
            logger.info(
                "reconciliation %s: %s",
                "applied" if correction.applied else "refused",
                correction.action,
                extra={"order_id": str(order_id), "detail": correction.detail},
            )
        return corrections

    def _payment_outcome(self, payment: Payment, known: ProviderPayment) -> list[Correction]:
        status = PaymentStatus(payment.status)
        actor, key = Actor.system(), f"reconcile:{known.reference}:{known.status}"
        reference = known.reference
        if known.status == ProviderPaymentStatus.SUCCEEDED and (
            status in AWAITING_PROVIDER or status in GAVE_UP
        ):
            return [
                self._apply(
                    payment,
                    "payment succeeded",
                    lambda: self.record_result(
                        RecordPaymentResult(
                            provider_reference=reference,
                            succeeded=True,
                            reported=known.amount,
                            actor=actor,
                            idempotency_key=key,
                        )
                    ),
                )
            ]
        if known.status == ProviderPaymentStatus.FAILED and status in AWAITING_PROVIDER:
            return [
                self._apply(
                    payment,
                    "payment failed",
                    lambda: self.record_result(
                        RecordPaymentResult(
                            provider_reference=reference,
                            succeeded=False,
                            reason=known.reason or "declined",
                            actor=actor,
                            idempotency_key=key,
                        )
                    ),
                    detail=known.reason,
                )
            ]
        if known.status == ProviderPaymentStatus.AUTHORIZED and status == PaymentStatus.SUBMITTED:
            return [
                self._apply(
                    payment,
                    "payment authorized",
                    lambda: self.authorize(
                        AuthorizePayment(
                            provider_reference=reference, actor=actor, idempotency_key=key
                        )
                    ),
                )
            ]
        return []

    def _refunds(self, payment: Payment, known: ProviderPayment) -> list[Correction]:
        ours = dict(payment.refunds.values_list("provider_reference", "status"))
        corrections = []
        for refund in known.refunds:
            if refund.outcome == RefundOutcome.PENDING:
                continue
            succeeded = refund.outcome == RefundOutcome.SUCCEEDED
            current = ours.get(refund.reference)
            if current is not None and current != RefundStatus.REQUESTED:
                if current != refund.outcome:
                    # The provider now says the opposite of what it said: no call settles that
                    # (money may have gone back after all, or not); an operator decides.
                    corrections.append(
                        Correction(
                            payment.order_id,
                            payment.id,
                            f"refund {refund.outcome}",
                            f"{refund.reference}: recorded as {current}",
                            applied=False,
                        )
                    )
                continue
            if current is None and not succeeded:
                continue  # a refusal of a refund we never asked for changes nothing
            command = RecordRefundResult(
                provider_reference=known.reference,
                refund_reference=refund.reference,
                succeeded=succeeded,
                reason=refund.reason,
                reported=refund.amount,
                actor=Actor.system(),
                idempotency_key=f"reconcile:{refund.reference}:{refund.outcome}",
            )
            corrections.append(
                self._apply(
                    payment,
                    f"refund {refund.outcome}",
                    functools.partial(self.record_refund_result, command),
                    detail=f"{refund.reference}: {refund.amount}"
                    + ("" if current is not None else " (made at the provider)"),
                )
            )
        return corrections

    @staticmethod
    def _apply(
        payment: Payment, action: str, call: Callable[[], object], detail: str = ""
    ) -> Correction:
        try:
            call()
        except DomainError as exc:
            # The provider's word contradicts ours in a way no service call settles (an amount
            # that differs, an answer after the opposite one): an operator decides.
            return Correction(
                payment.order_id, payment.id, action, f"{detail} {exc.detail}".strip(), False
            )
        return Correction(payment.order_id, payment.id, action, detail)
