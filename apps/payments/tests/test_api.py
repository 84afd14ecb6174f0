"""``POST /api/v1/orders/{id}/pay/`` and the payment section of the order, through HTTP."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.payments.commands import RecordPaymentResult, RecordRefundResult
from apps.payments.models import Payment
from apps.payments.tests.helpers import SYSTEM, delivery_of, payments, run

pytestmark = pytest.mark.django_db

ORDER_BODY: dict[str, Any] = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def create(client: APIClient, method: str) -> str:
    response = client.post(
        "/api/v1/orders/", {**ORDER_BODY, "payment_method": method}, format="json"
    )
    assert response.status_code == 201, response.content
    order_id: str = response.json()["id"]
    return order_id


def test_paying_by_card_is_accepted_and_answered_later(customer_client: APIClient) -> None:
    order_id = create(customer_client, "card")
    response = customer_client.post(f"/api/v1/orders/{order_id}/pay/")
    assert response.status_code == 202, response.content
    assert response["Location"] == f"/api/v1/orders/{order_id}/"
    body = response.json()
    assert (body["order_id"], body["method"], body["status"]) == (order_id, "card", "submitted")
    # The order's total: 25.00 of items and 5.40 of standard shipping.
    assert (body["amount"], body["currency"]) == ("30.40", "EUR")
    assert body["provider_reference"].startswith("card_")
    assert (body["approval_url"], body["instructions"], body["expires_at"]) == (None, None, None)
    assert Order.objects.get(id=order_id).state == "PENDING"


def test_paying_by_wallet_answers_the_approval_url(customer_client: APIClient) -> None:
    order_id = create(customer_client, "wallet")
    body = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    assert body["status"] == "submitted"
    assert body["approval_url"].startswith("https://")
    assert body["approval_url"].endswith(body["provider_reference"])


def test_paying_by_bank_transfer_answers_instructions_and_expiry(
    customer_client: APIClient,
) -> None:
    order_id = create(customer_client, "bank_transfer")
    body = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    assert body["status"] == "submitted"
    assert body["instructions"]["amount"] == "30.40"
    assert body["instructions"]["reference"] == body["provider_reference"]
    assert body["instructions"]["iban"]
    assert body["expires_at"]


def test_the_idempotency_key_travels_into_the_payment_event(customer_client: APIClient) -> None:
    order_id = create(customer_client, "card")
    response = customer_client.post(f"/api/v1/orders/{order_id}/pay/", HTTP_IDEMPOTENCY_KEY="p-1")
    assert response.status_code == 202
    submitted = StoredEvent.objects.get(event_type="PaymentSubmitted")
    assert submitted.idempotency_key == "p-1"
    assert submitted.metadata["user_id"] == Order.objects.get(id=order_id).customer_id


def test_another_customers_order_is_404_and_anonymous_is_401(
    customer_client: APIClient, other_client: APIClient, anon_client: APIClient
) -> None:
    order_id = create(customer_client, "card")
    problem(other_client.post(f"/api/v1/orders/{order_id}/pay/"), 404, "order_not_found")
    problem(anon_client.post(f"/api/v1/orders/{order_id}/pay/"), 401, "not_authenticated")
    assert not StoredEvent.objects.filter(event_type="PaymentSubmitted").exists()


def test_paying_a_cancelled_order_is_409_and_writes_nothing(
    customer_client: APIClient, customer: Any
) -> None:
    order = move_to(create_order(customer), OrderState.CANCELLED)
    before = (Payment.objects.count(), StoredEvent.objects.count())
    body = problem(
        customer_client.post(f"/api/v1/orders/{order.id}/pay/"), 409, "invalid_state_transition"
    )
    assert body["current_state"] == "CANCELLED"
    assert (Payment.objects.count(), StoredEvent.objects.count()) == before


def test_an_unknown_payment_method_is_400_at_creation(customer_client: APIClient) -> None:
    response = customer_client.post(
        "/api/v1/orders/", {**ORDER_BODY, "payment_method": "bitcoin"}, format="json"
    )
    body = problem(response, 400, "validation_error")
    assert "payment_method" in body["errors"]
    assert not Order.objects.exists()


def test_pay_confirm_then_cancel_refunds_and_the_order_shows_its_payment(
    customer_client: APIClient, customer: Any
) -> None:
    order_id = create(customer_client, "card")
    detail = customer_client.get(f"/api/v1/orders/{order_id}/").json()
    assert detail["payment"] is None  # the OrderCreated handler has not run (no dispatch here)
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    payments.record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"], succeeded=True, actor=SYSTEM
        )
    )
    detail = customer_client.get(f"/api/v1/orders/{order_id}/").json()
    assert detail["state"] == "PAID"
    assert detail["payment"]["status"] == "succeeded"
    assert detail["payment"]["provider_reference"] == paid["provider_reference"]
    assert detail["payment"]["amount"] == detail["total"] == "30.40"
    assert detail["shipment"] is None

    cancelled = customer_client.post(
        f"/api/v1/orders/{order_id}/cancel/", {"reason": "too slow"}, format="json"
    )
    assert cancelled.json()["state"] == "CANCELLED"
    order = Order.objects.get(id=order_id)
    run(delivery_of("OrderCancelled", "payments.release_cancelled_order_payment", order.id))
    detail = customer_client.get(f"/api/v1/orders/{order_id}/").json()
    # Asked of the provider, which answers later (by webhook).
    [refund] = detail["refunds"]
    assert (refund["amount"], refund["status"], refund["reason"]) == (
        "30.40",
        "requested",
        "order cancelled: too slow",
    )
    assert (detail["payment"]["status"], detail["payment"]["refund_pending_amount"]) == (
        "succeeded",
        "30.40",
    )
    assert detail["refunded_total"] == "0.00"
    payments.record_refund_result(
        RecordRefundResult(
            provider_reference=paid["provider_reference"],
            refund_reference=refund["provider_reference"],
            succeeded=True,
            actor=SYSTEM,
        )
    )
    detail = customer_client.get(f"/api/v1/orders/{order_id}/").json()
    assert detail["payment"]["status"] == "refunded"
    assert detail["refunded_total"] == "30.40"
    assert [r["status"] for r in detail["refunds"]] == ["succeeded"]
    timeline = f"/api/v1/orders/{order_id}/events/"
    own = customer_client.get(timeline, {"aggregate_type": "order"}).json()["results"]
    assert [e["event_type"] for e in own] == ["OrderCreated", "OrderPaid", "OrderCancelled"]
    # The whole timeline holds the payment's events too, the refund last.
    events = customer_client.get(timeline).json()["results"]
    assert [e["event_type"] for e in events if e["aggregate_type"] == "payment"][-1] == (
        "PaymentRefunded"
    )
    assert [e["event_type"] for e in events][-1] == "PaymentRefunded"


def test_a_retried_pay_with_the_same_key_replays_the_first_answer(
    customer_client: APIClient,
) -> None:
    order_id = create(customer_client, "wallet")
    url = f"/api/v1/orders/{order_id}/pay/"
    first = customer_client.post(url, HTTP_IDEMPOTENCY_KEY="pay-once")
    again = customer_client.post(url, HTTP_IDEMPOTENCY_KEY="pay-once")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert StoredEvent.objects.filter(event_type="PaymentSubmitted").count() == 1
