"""The simulated provider's and carrier's clients, backed by the simulator's ledgers.

The simulator decides what the payment provider and the carrier do (``simulator.py``) and keeps
it in its ledgers; these clients answer from them when the service asks (``fetch_payment``,
``track``), as a real provider's API answers from its own books whether or not its webhooks
arrived. While the simulator is on, refunds are answered later, by webhook, as the simulator
decides; while it is off, at once (there is nobody to answer later).
"""

from __future__ import annotations

import uuid

from apps.payments.provider import (
    CaptureResult,
    CaptureStatus,
    ProviderPayment,
    ProviderPaymentStatus,
    ProviderRefund,
    RefundOutcome,
    RefundSubmission,
    SimulatedPaymentProvider,
)
from apps.shipping.carriers import ParcelReport, ParcelStatus, SimulatedCarrier
from apps.webhooks.models import LedgerParcel, LedgerPayment, LedgerRefund
from apps.webhooks.simulator import enabled
from shared import clock
from shared.money import Money


class LedgerPaymentProvider(SimulatedPaymentProvider):
    def capture_wallet(
        self, *, reference: str, amount: Money, idempotency_key: str
    ) -> CaptureResult:
        result = super().capture_wallet(
            reference=reference, amount=amount, idempotency_key=idempotency_key
        )
        if result.status == CaptureStatus.CAPTURED:
            LedgerPayment.objects.filter(reference=reference).update(
                status=ProviderPaymentStatus.SUCCEEDED
            )
        return result

    def refund(self, *, reference: str, amount: Money, idempotency_key: str) -> RefundSubmission:
        submission = super().refund(
            reference=reference, amount=amount, idempotency_key=idempotency_key
        )
        if enabled():
            return RefundSubmission(submission.reference, RefundOutcome.PENDING)
        return submission

    def fetch_payment(self, *, reference: str) -> ProviderPayment | None:
        row = LedgerPayment.objects.filter(reference=reference).first()
        if row is None:
            return None
        now = clock.now()
        refunds = tuple(
            ProviderRefund(
                reference=refund.reference,
                amount=Money.of(refund.amount, refund.currency),
                outcome=RefundOutcome(refund.outcome),
                reason=refund.reason,
            )
            for refund in LedgerRefund.objects.filter(
                payment_reference=reference, known_from__lte=now
            )
        )
        status = ProviderPaymentStatus(row.status) if row.known_from <= now else None
        return ProviderPayment(
            reference=reference,
            status=status or ProviderPaymentStatus.PENDING,
            amount=Money.of(row.amount, row.currency),
            reason=row.reason if status else "",
            refunds=refunds,
        )


class LedgerCarrier(SimulatedCarrier):
    def track(self, *, shipment_id: uuid.UUID) -> ParcelReport | None:
        row = LedgerParcel.objects.filter(shipment_id=shipment_id).first()
        if row is None:
            return None
        now = clock.now()
        if row.delivered_from <= now:
            status = ParcelStatus.DELIVERED
        elif row.shipped_from <= now:
            status = ParcelStatus.SHIPPED
        else:
            status = ParcelStatus.BOOKED
        return ParcelReport(status=status, carrier=row.carrier, tracking_number=row.tracking_number)
