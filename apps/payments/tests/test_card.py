"""Card: the charge starts at submit; the provider answers later (success or decline)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.payments.commands import AuthorizePayment, RecordPaymentResult
from apps.payments.errors import PaymentNotFound, PaymentResultConflict, PaymentStepNotSupported
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

pytestmark = pytest.mark.django_db


def test_submitting_starts_the_charge_and_waits_for_the_provider(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.status == "submitted"
    assert payment.provider_reference
    assert payment.provider_reference.startswith("card_")
    assert (payment.approval_url, payment.instructions, payment.expires_at) == ("", None, None)
    # The order's total: its 10.00 item and 4.90 of standard shipping.
    assert (payment.amount, payment.currency) == (Decimal("14.90"), "EUR")
    assert provider.called("charge") == [f"submit:{payment.id}"]
    assert payment_event_types(order) == ["PaymentRequested", "PaymentSubmitted"]
    assert state_of(order) == "PENDING"


def test_a_successful_charge_pays_the_order(customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    assert state_of(order) == "PAID"
    assert payment_of(order).status == "succeeded"
    assert payment_event_types(order)[-1] == "PaymentSucceeded"
    paid = order_event(order, "OrderPaid")
    assert paid.payload["payment_reference"] == payment.provider_reference
    assert Decimal(paid.payload["amount"]) == Decimal("14.90")  # shipping included


def test_a_declined_charge_fails_the_order_with_the_providers_reason(customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference,
            succeeded=False,
            reason="insufficient funds",
            actor=SYSTEM,
        )
    )
    assert state_of(order) == "FAILED"
    assert payment_of(order).status == "declined"
    assert payment_of(order).failure_reason == "insufficient funds"
    assert payment_event_types(order)[-1] == "PaymentDeclined"
    failed = order_event(order, "PaymentFailed")
    assert failed.payload["reason"] == "insufficient funds"


@pytest.mark.parametrize("succeeded", [True, False])
def test_the_same_answer_twice_changes_nothing(customer: Any, succeeded: bool) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    for _ in range(2):
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference,
                succeeded=succeeded,
                reason="do not honour",
                actor=SYSTEM,
            )
        )
    assert state_of(order) == ("PAID" if succeeded else "FAILED")
    assert len(payment_event_types(order)) == 3
    assert StoredEvent.objects.filter(aggregate_id=order.id).count() == 2


@pytest.mark.parametrize("first", [True, False])
def test_the_opposite_answer_after_a_settled_one_is_a_409(customer: Any, first: bool) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=first, actor=SYSTEM
        )
    )
    before = StoredEvent.objects.count()
    with pytest.raises(PaymentResultConflict) as info:
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=not first, actor=SYSTEM
            )
        )
    assert info.value.status == 409
    assert StoredEvent.objects.count() == before
    assert state_of(order) == ("PAID" if first else "FAILED")


def test_a_result_for_an_unknown_reference_is_404(customer: Any) -> None:
    with pytest.raises(PaymentNotFound) as info:
        payments.record_result(
            RecordPaymentResult(provider_reference="card_nope", succeeded=True, actor=SYSTEM)
        )
    assert info.value.status == 404


def test_a_card_payment_has_no_authorization_step(customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    before = StoredEvent.objects.count()
    with pytest.raises(PaymentStepNotSupported) as info:
        payments.authorize(
            AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
        )
    assert info.value.status == 422
    assert StoredEvent.objects.count() == before
    assert payment_of(order).status == "submitted"
