"""Cancelling an order gives its money back (refund) or releases the request (void)."""

from __future__ import annotations

from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.events.subscriptions import HandlingOutcome
from apps.orders.tests.factories import create_order
from apps.payments.commands import (
    RecordPaymentResult,
    RefundPayment,
    ReleaseCancelledOrderPayment,
    RequestPayment,
    VoidPayment,
)
from apps.payments.errors import InvalidPaymentTransition
from apps.payments.models import Refund
from apps.payments.tests.helpers import (
    SYSTEM,
    cancel,
    delivery_of,
    paid_order,
    payment_event_types,
    payment_of,
    payments,
    run,
    state_of,
    submitted_order,
)
from apps.payments.tests.providers import RecordingProvider
from shared.money import Money

pytestmark = pytest.mark.django_db

RELEASE = "payments.release_cancelled_order_payment"


@pytest.mark.parametrize("method", ["card", "wallet", "bank_transfer"])
def test_cancelling_a_paid_order_refunds_its_payment(
    customer: Any, provider: type[RecordingProvider], method: str
) -> None:
    order, payment = paid_order(customer, method)
    assert state_of(order) == "PAID"
    cancel(order, "found it cheaper")
    assert run(delivery_of("OrderCancelled", RELEASE, order.id)) == HandlingOutcome.SUCCEEDED
    # Through the refund ledger: asked, given back, and the payment all refunded.
    assert payment_event_types(order)[-3:] == [
        "RefundRequested",
        "RefundSucceeded",
        "PaymentRefunded",
    ]
    refunded = StoredEvent.objects.get(aggregate_id=payment.id, event_type="PaymentRefunded")
    refund = Refund.objects.get(payment=payment)
    assert refunded.payload["refund_id"] == str(refund.id)
    assert refunded.payload["refund_reference"] == refund.provider_reference
    assert refunded.payload["reason"] == "order cancelled: found it cheaper"
    assert (refund.amount, refund.currency, refund.status) == (
        payment.amount,
        payment.currency,
        "succeeded",
    )
    after = payment_of(order)
    assert (after.status, after.amount_refunded, after.amount_refund_pending) == (
        "refunded",
        payment.amount,
        0,
    )
    assert provider.called("refund") == [f"refund:{refund.id}"]
    assert provider.refunded == [Money.of(payment.amount, payment.currency)]
    assert state_of(order) == "CANCELLED"


def test_cancelling_a_pending_order_voids_the_submitted_payment(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "card")
    cancel(order)
    assert run(delivery_of("OrderCancelled", RELEASE, order.id)) == HandlingOutcome.SUCCEEDED
    assert payment_event_types(order) == ["PaymentRequested", "PaymentSubmitted", "PaymentVoided"]
    assert payment_of(order).status == "voided"
    assert provider.called("void") == [f"void:{payment.id}"]
    assert provider.called("refund") == []
    assert not Refund.objects.exists()


def test_cancelling_before_paying_voids_the_request_without_asking_the_provider(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order = create_order(customer)
    payments.request_payment(RequestPayment(order_id=order.id, actor=SYSTEM))
    cancel(order)
    run(delivery_of("OrderCancelled", RELEASE, order.id))
    assert payment_event_types(order) == ["PaymentRequested", "PaymentVoided"]
    assert provider.calls == []


def test_cancelling_after_a_decline_leaves_the_payment_alone(customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=False, actor=SYSTEM
        )
    )
    # A FAILED order cannot be cancelled; the handler, if asked anyway, changes nothing.
    payments.release_for_cancelled_order(
        ReleaseCancelledOrderPayment(order_id=order.id, actor=SYSTEM)
    )
    assert payment_event_types(order)[-1] == "PaymentDeclined"


def test_a_success_for_a_cancelled_order_is_refunded_and_the_order_stays_cancelled(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    cancel(order)
    # The provider's success arrives before the OrderCancelled handler has voided the payment.
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    assert state_of(order) == "CANCELLED"
    assert payment_event_types(order)[-4:] == [
        "PaymentSucceeded",
        "RefundRequested",
        "RefundSucceeded",
        "PaymentRefunded",
    ]
    assert Refund.objects.get(payment=payment).reason == "order is CANCELLED"
    assert not StoredEvent.objects.filter(aggregate_id=order.id, event_type="OrderPaid").exists()
    # The handler then finds the money already given back.
    run(delivery_of("OrderCancelled", RELEASE, order.id))
    assert Refund.objects.count() == 1
    assert provider.called("void") == []


def test_a_capture_that_lands_after_the_void_is_refunded(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    cancel(order)
    run(delivery_of("OrderCancelled", RELEASE, order.id))
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    assert payment_event_types(order)[-5:] == [
        "PaymentVoided",
        "PaymentSucceeded",
        "RefundRequested",
        "RefundSucceeded",
        "PaymentRefunded",
    ]
    late = StoredEvent.objects.get(aggregate_id=payment.id, event_type="PaymentSucceeded")
    assert late.payload["late"] is True
    assert state_of(order) == "CANCELLED"


def test_refunding_twice_refunds_once(customer: Any, provider: type[RecordingProvider]) -> None:
    order, _ = paid_order(customer)
    payments.refund(RefundPayment(order_id=order.id, actor=SYSTEM, reason="goodwill"))
    payments.refund(RefundPayment(order_id=order.id, actor=SYSTEM, reason="goodwill"))
    assert Refund.objects.count() == 1
    assert len(provider.called("refund")) == 1
    assert payment_event_types(order).count("PaymentRefunded") == 1


def test_voiding_twice_voids_once(customer: Any, provider: type[RecordingProvider]) -> None:
    order, _ = submitted_order(customer)
    payments.void(VoidPayment(order_id=order.id, actor=SYSTEM))
    payments.void(VoidPayment(order_id=order.id, actor=SYSTEM))
    assert payment_event_types(order).count("PaymentVoided") == 1
    assert len(provider.called("void")) == 1


def test_only_a_settled_payment_can_be_refunded_and_only_an_open_one_voided(
    customer: Any,
) -> None:
    pending, _ = submitted_order(customer)
    with pytest.raises(InvalidPaymentTransition) as info:
        payments.refund(RefundPayment(order_id=pending.id, actor=SYSTEM))
    assert info.value.extra["current_status"] == "submitted"
    paid, _ = paid_order(customer)
    with pytest.raises(InvalidPaymentTransition):
        payments.void(VoidPayment(order_id=paid.id, actor=SYSTEM))
    assert not Refund.objects.exists()
    assert payment_of(paid).status == "succeeded"
