"""Bank transfer: instructions now, money days later, or expiry and a failed order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from apps.payments.commands import AuthorizePayment, RecordPaymentResult
from apps.payments.errors import PaymentStepNotSupported
from apps.payments.models import Refund
from apps.payments.tests.helpers import (
    SYSTEM,
    order_event,
    payment_event_types,
    payment_of,
    payments,
    state_of,
    submitted_order,
)
from apps.payments.tests.providers import RecordingProvider
from shared.clock import frozen_clock

pytestmark = pytest.mark.django_db

START = datetime(2025, 3, 3, 9, 30, tzinfo=UTC)


def test_submitting_gives_transfer_instructions_and_a_deadline(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    with frozen_clock(START):
        order, payment = submitted_order(customer, "bank_transfer", items=2)
    assert payment.status == "submitted"
    assert payment.expires_at == START + timedelta(days=7)
    assert payment.instructions is not None
    assert payment.instructions["reference"] == payment.provider_reference
    # 1 x 10.00 + 2 x 10.00, and standard shipping of 3 units (4.90 + 2 x 0.50).
    assert payment.instructions["amount"] == "35.90"
    assert payment.instructions["currency"] == "EUR"
    assert {"iban", "bic", "beneficiary"} <= set(payment.instructions)
    assert provider.called("bank_transfer") == [f"submit:{payment.id}"]
    assert state_of(order) == "PENDING"


def test_the_deadline_comes_from_settings(customer: Any, settings: Any) -> None:
    settings.OMS_BANK_TRANSFER_EXPIRY_DAYS = 3
    with frozen_clock(START):
        _, payment = submitted_order(customer, "bank_transfer")
    assert payment.expires_at == START + timedelta(days=3)


def test_a_transfer_received_in_time_pays_the_order(customer: Any) -> None:
    with frozen_clock(START) as clock:
        order, payment = submitted_order(customer, "bank_transfer")
        assert payment.provider_reference
        clock.advance(timedelta(days=6))
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
            )
        )
        clock.advance(timedelta(days=2))
        assert payments.expire_overdue() == 0
    assert state_of(order) == "PAID"
    assert payment_of(order).status == "succeeded"


def test_an_unpaid_transfer_expires_and_fails_the_order(customer: Any) -> None:
    with frozen_clock(START) as clock:
        order, _ = submitted_order(customer, "bank_transfer")
        clock.advance(timedelta(days=7) - timedelta(seconds=1))
        assert payments.expire_overdue() == 0
        assert state_of(order) == "PENDING"
        clock.advance(timedelta(seconds=1))
        assert payments.expire_overdue() == 1
        assert payments.expire_overdue() == 0  # nothing left to expire
    payment = payment_of(order)
    assert (payment.status, payment.failure_reason) == ("expired", "expired")
    assert payment_event_types(order)[-1] == "PaymentExpired"
    assert state_of(order) == "FAILED"
    assert order_event(order, "PaymentFailed").payload["reason"] == "expired"


def test_money_that_arrives_after_the_expiry_is_refunded(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    with frozen_clock(START) as clock:
        order, payment = submitted_order(customer, "bank_transfer")
        assert payment.provider_reference
        clock.advance(timedelta(days=8))
        payments.expire_overdue()
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
            )
        )
    assert payment_event_types(order)[-5:] == [
        "PaymentExpired",
        "PaymentSucceeded",
        "RefundRequested",
        "RefundSucceeded",
        "PaymentRefunded",
    ]
    assert state_of(order) == "FAILED"  # never moves backwards
    refund = Refund.objects.get(payment__order_id=order.id)
    assert refund.reason == "money arrived after the payment was expired"
    assert provider.called("refund") == [f"refund:{refund.id}"]


def test_a_bank_transfer_has_no_authorization_step(customer: Any) -> None:
    _, payment = submitted_order(customer, "bank_transfer")
    assert payment.provider_reference
    with pytest.raises(PaymentStepNotSupported):
        payments.authorize(
            AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
        )
