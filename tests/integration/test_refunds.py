"""Refunds: staff give back an amount or lines of a paid order, never more than was captured,
through one ledger the provider answers (at once, or later by webhook)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.commands import Actor
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import apply, create_order
from apps.payments.commands import (
    RecordPaymentResult,
    RecordRefundResult,
    RequestRefund,
    SubmitPayment,
)
from apps.payments.models import Payment, Refund
from apps.payments.provider import RefundOutcome
from apps.payments.tests.helpers import (
    SYSTEM,
    cancel,
    delivery_of,
    payment_event_types,
    payment_of,
    payments,
    run,
    state_of,
)
from apps.payments.tests.providers import RECORDING_PROVIDER, RecordingProvider
from apps.webhooks.tests.helpers import SECRETS, post_webhook
from conftest import token_client
from shared.money import Money

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings: Any) -> Iterator[type[RecordingProvider]]:
    """Every provider call through :class:`RecordingProvider`, which refunds at once unless told."""
    settings.OMS_PAYMENT_PROVIDER = RECORDING_PROVIDER
    RecordingProvider.reset()
    yield RecordingProvider
    RecordingProvider.reset()


@pytest.fixture
def signed(settings: Any) -> None:
    """The provider's webhooks signed with the test secrets."""
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}


def refunds_url(order: Any) -> str:
    return f"/api/v1/orders/{order.id}/refunds/"


def captured_order(customer: Any) -> tuple[Any, Payment]:
    """SKU-0 x 1 and SKU-1 x 2 at 10.00 and 5.90 of shipping: 35.90 captured."""
    order = create_order(customer, items=2, payment_method="card")
    payment = payments.submit_payment(
        SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk))
    )
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    payment = Payment.objects.get(id=payment.id)
    assert payment.amount == Decimal("35.90")
    return order, payment


def written() -> tuple[int, int]:
    return Refund.objects.count(), StoredEvent.objects.count()


def test_staff_refund_part_of_an_amount_and_the_order_shows_it(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider]
) -> None:
    order, _ = captured_order(customer)
    response = staff_client.post(
        refunds_url(order), {"amount": "5.90", "reason": "late delivery"}, format="json"
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["amount"], body["currency"], body["status"], body["lines"]) == (
        "5.90",
        "EUR",
        "succeeded",
        [],
    )
    assert payment_event_types(order)[-2:] == ["RefundRequested", "RefundSucceeded"]
    after = payment_of(order)
    assert (after.status, after.amount_refunded, after.amount_refund_pending) == (
        "succeeded",
        Decimal("5.90"),
        0,
    )
    assert provider.refunded[-1].amount == Decimal("5.90")
    detail = staff_client.get(f"/api/v1/orders/{order.id}/").json()
    assert (detail["state"], detail["refunded_total"]) == ("PAID", "5.90")
    assert [(r["amount"], r["reason"]) for r in detail["refunds"]] == [("5.90", "late delivery")]
    listed = staff_client.get("/api/v1/orders/").json()["results"]
    assert [row["refunded_total"] for row in listed if row["id"] == str(order.id)] == ["5.90"]


def test_lines_are_refunded_at_their_price_until_none_is_left(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider]
) -> None:
    order, _ = captured_order(customer)
    first = staff_client.post(
        refunds_url(order), {"lines": [{"sku": "SKU-1", "quantity": 1}]}, format="json"
    )
    assert first.status_code == 201, first.content
    assert (first.json()["amount"], first.json()["lines"]) == (
        "10.00",
        [{"sku": "SKU-1", "quantity": 1, "amount": "10.00"}],
    )
    both = staff_client.post(
        refunds_url(order),
        {"lines": [{"sku": "SKU-0", "quantity": 1}, {"sku": "SKU-1", "quantity": 1}]},
        format="json",
    )
    assert both.status_code == 201, both.content
    assert both.json()["amount"] == "20.00"
    before = written()
    again = staff_client.post(
        refunds_url(order), {"lines": [{"sku": "SKU-1", "quantity": 1}]}, format="json"
    )
    assert again.status_code == 409
    problem = again.json()
    assert (problem["code"], problem["refundable_quantity"]) == ("refund_exceeds_captured", 0)
    assert written() == before
    # What is left is the shipping, refundable as an amount.
    assert payment_of(order).refundable == Decimal("5.90")


def test_a_refund_beyond_what_was_captured_is_409_and_writes_nothing(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider]
) -> None:
    order, _ = captured_order(customer)
    assert (
        staff_client.post(refunds_url(order), {"amount": "30.00"}, format="json").status_code == 201
    )
    before, calls = written(), list(provider.calls)
    response = staff_client.post(refunds_url(order), {"amount": "5.91"}, format="json")
    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert (response.json()["code"], response.json()["refundable"]) == (
        "refund_exceeds_captured",
        "5.90",
    )
    assert written() == before
    assert provider.calls == calls  # the provider was not asked
    assert payment_of(order).amount_refunded == Decimal("30.00")


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, "validation_error"),
        ({"amount": "1.00", "lines": [{"sku": "SKU-0", "quantity": 1}]}, "validation_error"),
        ({"amount": "0"}, "invalid_command"),
        ({"amount": "1.001"}, "invalid_amount"),
        ({"amount": 1.5}, "validation_error"),
        ({"lines": [{"sku": "NOPE", "quantity": 1}]}, "invalid_command"),
        ({"lines": [{"sku": "SKU-0", "quantity": 0}]}, "validation_error"),
    ],
)
def test_bad_refund_requests_are_problems_and_write_nothing(
    customer: Any,
    staff_client: APIClient,
    provider: type[RecordingProvider],
    body: dict[str, Any],
    code: str,
) -> None:
    order, _ = captured_order(customer)
    before = written()
    response = staff_client.post(refunds_url(order), body, format="json")
    assert 400 <= response.status_code < 500, response.content
    assert response.json()["code"] == code
    assert written() == before


def test_a_pending_order_has_nothing_to_refund(customer: Any, staff_client: APIClient) -> None:
    order = create_order(customer)
    response = staff_client.post(refunds_url(order), {"amount": "1.00"}, format="json")
    assert (response.status_code, response.json()["code"]) == (409, "refund_not_possible")
    assert not Refund.objects.exists()


def test_customers_see_their_refunds_but_only_staff_give_money_back(
    customer: Any,
    customer_client: APIClient,
    other_customer: Any,
    staff_client: APIClient,
    provider: type[RecordingProvider],
) -> None:
    order, _ = captured_order(customer)
    assert (
        customer_client.post(refunds_url(order), {"amount": "1.00"}, format="json").status_code
        == 403
    )
    assert not Refund.objects.exists()
    staff_client.post(refunds_url(order), {"amount": "1.00"}, format="json")
    mine = customer_client.get(refunds_url(order))
    assert [r["amount"] for r in mine.json()] == ["1.00"]
    assert token_client(other_customer).get(refunds_url(order)).status_code == 404


@pytest.mark.parametrize("state", [OrderState.PROCESSING, OrderState.SHIPPED, OrderState.DELIVERED])
def test_a_full_refund_in_any_state_after_payment_keeps_the_state(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider], state: OrderState
) -> None:
    order, _ = captured_order(customer)
    for step in [OrderState.PROCESSING, OrderState.SHIPPED, OrderState.DELIVERED]:
        apply(order, step)
        if step == state:
            break
    response = staff_client.post(refunds_url(order), {"amount": "35.90"}, format="json")
    assert response.status_code == 201, response.content
    assert state_of(order) == state
    assert payment_of(order).status == "refunded"
    assert payment_event_types(order)[-3:] == [
        "RefundRequested",
        "RefundSucceeded",
        "PaymentRefunded",
    ]
    detail = staff_client.get(f"/api/v1/orders/{order.id}/").json()
    assert (detail["state"], detail["refunded_total"], detail["total"]) == (
        state.value,
        "35.90",
        "35.90",
    )


def test_cancelling_after_a_partial_refund_gives_back_only_the_rest(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider]
) -> None:
    order, _ = captured_order(customer)
    staff_client.post(refunds_url(order), {"amount": "10.00"}, format="json")
    cancel(order)
    run(delivery_of("OrderCancelled", "payments.release_cancelled_order_payment", order.id))
    amounts = [r.amount for r in Refund.objects.filter(order_id=order.id)]
    assert amounts == [Decimal("10.00"), Decimal("25.90")]
    assert payment_of(order).status == "refunded"
    # Run again (at-least-once delivery): nothing is left, nothing more is asked.
    run(delivery_of("OrderCancelled", "payments.release_cancelled_order_payment", order.id))
    assert Refund.objects.filter(order_id=order.id).count() == 2


@pytest.mark.usefixtures("signed")
def test_a_refund_the_provider_answers_later_is_settled_by_its_webhook(
    customer: Any,
    staff_client: APIClient,
    anon_client: APIClient,
    provider: type[RecordingProvider],
) -> None:
    provider.refund_answer = RefundOutcome.PENDING
    order, payment = captured_order(customer)
    created = staff_client.post(refunds_url(order), {"amount": "5.00"}, format="json").json()
    assert created["status"] == "requested"
    assert payment_of(order).amount_refund_pending == Decimal("5.00")
    message = {
        "type": "refund.succeeded",
        "data": {
            "provider_reference": payment.provider_reference,
            "refund_reference": created["provider_reference"],
            "amount": "5.00",
            "currency": "EUR",
        },
    }
    first = post_webhook(anon_client, "payment", message, webhook_id="msg_refund_1")
    assert (first.status_code, first.json()["outcome"]) == (200, "processed")
    again = post_webhook(anon_client, "payment", message, webhook_id="msg_refund_1")
    assert again.json()["outcome"] == "duplicate"
    after = payment_of(order)
    assert (after.amount_refunded, after.amount_refund_pending) == (Decimal("5.00"), 0)
    assert payment_event_types(order).count("RefundSucceeded") == 1
    # The same success under another message id changes nothing either.
    third = post_webhook(anon_client, "payment", message, webhook_id="msg_refund_2")
    assert third.json()["outcome"] == "processed"
    assert payment_event_types(order).count("RefundSucceeded") == 1


@pytest.mark.usefixtures("signed")
def test_a_refused_refund_frees_its_amount(
    customer: Any,
    staff_client: APIClient,
    anon_client: APIClient,
    provider: type[RecordingProvider],
) -> None:
    provider.refund_answer = RefundOutcome.PENDING
    order, payment = captured_order(customer)
    created = staff_client.post(refunds_url(order), {"amount": "35.90"}, format="json").json()
    assert (
        staff_client.post(refunds_url(order), {"amount": "0.01"}, format="json").status_code == 409
    )
    refused = post_webhook(
        anon_client,
        "payment",
        {
            "type": "refund.failed",
            "data": {
                "provider_reference": payment.provider_reference,
                "refund_reference": created["provider_reference"],
                "reason": "the card account is closed",
            },
        },
    )
    assert refused.json()["outcome"] == "processed"
    refund = Refund.objects.get(id=created["id"])
    assert (refund.status, refund.failure_reason) == ("failed", "the card account is closed")
    assert payment_event_types(order)[-1] == "RefundFailed"
    assert payment_of(order).refundable == Decimal("35.90")
    # A success after the refusal is stale: acknowledged, not applied.
    late = post_webhook(
        anon_client,
        "payment",
        {
            "type": "refund.succeeded",
            "data": {
                "provider_reference": payment.provider_reference,
                "refund_reference": created["provider_reference"],
                "amount": "35.90",
                "currency": "EUR",
            },
        },
    )
    assert late.json()["outcome"] == "ignored"
    assert payment_of(order).amount_refunded == 0


def test_a_refund_made_at_the_provider_is_recorded_once(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, payment = captured_order(customer)
    assert payment.provider_reference
    command = RecordRefundResult(
        provider_reference=payment.provider_reference,
        refund_reference="refund_at_provider_1",
        succeeded=True,
        reported=Money.of("3.00", "EUR"),
        actor=SYSTEM,
    )
    payments.record_refund_result(command)
    payments.record_refund_result(command)
    [refund] = Refund.objects.filter(order_id=order.id)
    assert (refund.amount, refund.status, refund.reason) == (
        Decimal("3.00"),
        "succeeded",
        "refunded at the provider",
    )
    succeeded = StoredEvent.objects.get(event_type="RefundSucceeded")
    assert succeeded.payload["initiated_by_provider"] is True
    assert provider.called("refund") == []


def test_idempotency_key_makes_a_repeated_refund_one_refund(
    customer: Any, staff_client: APIClient, provider: type[RecordingProvider]
) -> None:
    order, _ = captured_order(customer)
    key = "refund-once-1"
    first = staff_client.post(
        refunds_url(order), {"amount": "2.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    second = staff_client.post(
        refunds_url(order), {"amount": "2.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key
    )
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json() == second.json()
    assert Refund.objects.count() == 1


def test_a_refund_asked_again_after_a_rollback_is_the_same_refund_to_the_provider(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    from django.db import transaction

    order, _ = captured_order(customer)
    command = RequestRefund(order_id=order.id, amount=Decimal("5.00"), actor=SYSTEM)

    def refund_then_die() -> None:
        with transaction.atomic():
            payments.request_refund(command)
            raise RuntimeError("the worker died before its transaction committed")

    with pytest.raises(RuntimeError):
        refund_then_die()
    assert not Refund.objects.exists()
    refund = payments.request_refund(command)
    # The provider was asked twice with one key: it pays out once.
    assert provider.called("refund") == [f"refund:{refund.id}", f"refund:{refund.id}"]
    assert Refund.objects.count() == 1
    # A second refund, once the first is written, is a refund of its own.
    second = payments.request_refund(command)
    assert second.id != refund.id
