"""Concurrent refunds of one payment, with real parallel PostgreSQL connections: together they
never give back more than was captured."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.orders.commands import Actor
from apps.orders.tests.factories import create_order
from apps.payments.commands import RecordPaymentResult, RequestRefund, SubmitPayment
from apps.payments.errors import RefundExceedsCaptured
from apps.payments.models import Payment, Refund
from apps.payments.services import PaymentService
from apps.payments.tests.providers import RECORDING_PROVIDER, RecordingProvider
from tests.support.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SYSTEM = Actor.system()


@pytest.mark.parametrize("rounds", range(3))
def test_racing_refunds_never_exceed_the_captured_amount(
    customer: Any, settings: Any, rounds: int
) -> None:
    settings.OMS_PAYMENT_PROVIDER = RECORDING_PROVIDER
    RecordingProvider.reset()
    service = PaymentService()
    order = create_order(customer, items=2)  # 30.00 of items and 5.90 of shipping
    payment = service.submit_payment(SubmitPayment(order_id=order.id, actor=SYSTEM))
    assert payment.provider_reference
    service.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )

    def refund_ten() -> Any:
        return service.request_refund(
            RequestRefund(order_id=order.id, amount=Decimal("10.00"), actor=SYSTEM)
        )

    results = race(*[refund_ten for _ in range(6)])
    given = [r for r in results if isinstance(r, Refund)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(given) == 3, results
    assert all(isinstance(r, RefundExceedsCaptured) for r in refused), refused
    after = Payment.objects.get(id=payment.id)
    assert after.amount == Decimal("35.90")
    assert (after.amount_refunded, after.amount_refund_pending) == (Decimal("30.00"), 0)
    assert sum(r.amount for r in Refund.objects.filter(payment=after)) == Decimal("30.00")
    # The provider was asked only for the refunds that were written.
    assert len(RecordingProvider.called("refund")) == 3
