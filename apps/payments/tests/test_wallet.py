"""Wallet: redirect-style two steps. Submit gives an approval URL; authorize captures."""

from __future__ import annotations

from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.payments.commands import AuthorizePayment, RecordPaymentResult, VoidPayment
from apps.payments.errors import InvalidPaymentTransition, PaymentResultNotExpected
from apps.payments.provider import CaptureResult, CaptureStatus
from apps.payments.tests.helpers import (
    SYSTEM,
    cancel,
    order_event,
    payment_event_types,
    payment_of,
    payments,
    state_of,
    submitted_order,
)
from apps.payments.tests.providers import RecordingProvider
from shared.exceptions import InvalidStateTransition

pytestmark = pytest.mark.django_db


def test_submitting_opens_a_session_with_an_approval_url(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "wallet")
    assert payment.status == "submitted"
    assert payment.provider_reference
    assert payment.provider_reference.startswith("wallet_")
    assert payment.approval_url.endswith(payment.provider_reference)
    assert payment.approval_url.startswith("https://")
    assert provider.called("wallet_session") == [f"submit:{payment.id}"]
    assert provider.called("capture") == []
    assert state_of(order) == "PENDING"


def test_authorizing_captures_the_money_and_pays_the_order(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    payments.authorize(
        AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
    )
    assert payment_event_types(order) == [
        "PaymentRequested",
        "PaymentSubmitted",
        "PaymentAuthorized",
        "PaymentSucceeded",
    ]
    assert provider.called("capture") == [f"capture:{payment.id}"]
    assert payment_of(order).status == "succeeded"
    assert state_of(order) == "PAID"
    # Authorizing again (the customer came back twice) takes no money twice.
    payments.authorize(
        AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
    )
    assert len(provider.called("capture")) == 1
    assert len(payment_event_types(order)) == 4


def test_a_declined_capture_fails_the_order_with_the_providers_reason(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    provider.capture_answer = CaptureResult(CaptureStatus.DECLINED, "wallet balance too low")
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    payments.authorize(
        AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
    )
    assert payment_event_types(order)[-2:] == ["PaymentAuthorized", "PaymentDeclined"]
    assert state_of(order) == "FAILED"
    assert order_event(order, "PaymentFailed").payload["reason"] == "wallet balance too low"


def test_a_pending_capture_stays_authorized_until_the_provider_answers(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    provider.capture_answer = CaptureResult(CaptureStatus.PENDING)
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    payments.authorize(
        AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
    )
    assert payment_of(order).status == "authorized"
    assert state_of(order) == "PENDING"
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    assert payment_event_types(order)[-2:] == ["PaymentAuthorized", "PaymentSucceeded"]
    assert state_of(order) == "PAID"


def test_money_cannot_arrive_for_a_session_the_customer_never_approved(customer: Any) -> None:
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    before = StoredEvent.objects.count()
    with pytest.raises(PaymentResultNotExpected) as info:
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
            )
        )
    assert info.value.status == 409
    assert StoredEvent.objects.count() == before
    assert state_of(order) == "PENDING"


def test_the_customer_rejecting_the_payment_at_the_wallet_fails_the_order(customer: Any) -> None:
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference,
            succeeded=False,
            reason="customer rejected the payment",
            actor=SYSTEM,
        )
    )
    assert payment_of(order).status == "declined"
    assert state_of(order) == "FAILED"
    assert order_event(order, "PaymentFailed").payload["reason"] == "customer rejected the payment"


def test_approving_after_the_order_was_cancelled_captures_nothing(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "wallet")
    assert payment.provider_reference
    cancel(order)
    # The OrderCancelled handler has not run yet (a busy worker): the order alone says no.
    with pytest.raises(InvalidStateTransition):
        payments.authorize(
            AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
        )
    assert provider.called("capture") == []
    payments.void(VoidPayment(order_id=order.id, actor=SYSTEM, reason="order cancelled"))
    # Once voided, the session cannot be authorized either.
    with pytest.raises(InvalidPaymentTransition):
        payments.authorize(
            AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
        )
    assert provider.called("capture") == []
    assert payment_of(order).status == "voided"
