"""The seed's event flow end to end, with real commits and the subscriptions run after each one.

create order → OrderCreated → payment handler → PaymentRequested; pay → PaymentSubmitted;
provider success → PaymentSucceeded → OrderPaid → shipping handler → ShipmentRequested and
OrderProcessingStarted; staff ship → ShipmentShipped, OrderShipped; staff deliver →
ShipmentDelivered, OrderDelivered.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events import lag
from apps.events.models import ParkedEvent, StoredEvent
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.payments.commands import AuthorizePayment, RecordPaymentResult, RecordRefundResult
from apps.payments.services import PaymentService
from apps.shipping.models import Shipment

pytestmark = pytest.mark.django_db(transaction=True)

PROVIDER = Actor.system()  # the provider's answers arrive as the system


def event_types() -> list[str]:
    """Every event in the store, all aggregates, in global sequence order."""
    return list(StoredEvent.objects.order_by("sequence").values_list("event_type", flat=True))


def state(order_id: str) -> str:
    return Order.objects.get(id=order_id).state


def event(event_type: str) -> StoredEvent:
    return StoredEvent.objects.get(event_type=event_type)


def create(client: APIClient, payment_method: str, shipping_method: str = "standard") -> str:
    response = client.post(
        "/api/v1/orders/",
        {
            "currency": "EUR",
            "payment_method": payment_method,
            "shipping_method": shipping_method,
            "items": [
                {"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"},
                {"sku": "PEN-1", "name": "A pen", "quantity": 1, "unit_price": "1.99"},
            ],
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    order_id: str = response.json()["id"]
    return order_id


def assert_reactions_succeeded() -> None:
    """The payment and shipping subscriptions handled every event they read, each at the first
    attempt: none is parked or dead, none is behind, and each reaction happened once."""
    ours = [r for r in lag.status() if r.subscription.startswith(("payments.", "shipping."))]
    assert ours
    assert {(r.behind, r.parked, r.dead) for r in ours} == {(0, 0, 0)}
    assert not ParkedEvent.objects.exists()
    for reaction in ("PaymentRequested", "ShipmentRequested"):
        assert StoredEvent.objects.filter(event_type=reaction).count() <= 1


def test_an_order_travels_from_pending_to_delivered_driven_by_events(
    customer_client: APIClient, staff_client: APIClient
) -> None:
    order_id = create(customer_client, "card", "express")
    assert state(order_id) == "PENDING"
    assert event_types() == ["OrderCreated", "PaymentRequested"]

    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/")
    assert paid.status_code == 202, paid.content
    assert paid.json()["status"] == "submitted"
    assert state(order_id) == "PENDING"
    assert event_types()[2:] == ["PaymentSubmitted"]

    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid.json()["provider_reference"], succeeded=True, actor=PROVIDER
        )
    )
    # The OrderPaid handler ran after the commit: the order is already being processed.
    assert state(order_id) == "PROCESSING"
    assert event_types()[3:] == [
        "PaymentSucceeded",
        "OrderPaid",
        "ShipmentRequested",
        "OrderProcessingStarted",
    ]

    shipped = staff_client.post(f"/api/v1/orders/{order_id}/ship/")
    assert shipped.status_code == 200, shipped.content
    assert state(order_id) == "SHIPPED"
    assert event_types()[7:] == ["ShipmentShipped", "OrderShipped"]

    delivered = staff_client.post(f"/api/v1/orders/{order_id}/deliver/")
    assert delivered.status_code == 200, delivered.content
    assert state(order_id) == "DELIVERED"

    assert event_types() == [
        "OrderCreated",
        "PaymentRequested",
        "PaymentSubmitted",
        "PaymentSucceeded",
        "OrderPaid",
        "ShipmentRequested",
        "OrderProcessingStarted",
        "ShipmentShipped",
        "OrderShipped",
        "ShipmentDelivered",
        "OrderDelivered",
    ]
    # Each reaction names the event that caused it.
    assert event("PaymentRequested").metadata["causation_id"] == str(event("OrderCreated").event_id)
    assert event("ShipmentRequested").metadata["causation_id"] == str(event("OrderPaid").event_id)
    assert event("OrderProcessingStarted").metadata["causation_id"] == str(
        event("OrderPaid").event_id
    )
    assert_reactions_succeeded()

    # The order's timeline holds the seed's flow in log order, the payment's and the shipment's
    # events included, each with its own aggregate.
    timeline = customer_client.get(f"/api/v1/orders/{order_id}/events/").json()
    assert timeline["next"] is None
    assert [e["event_type"] for e in timeline["results"]] == event_types()
    seed_flow = ["OrderCreated", "PaymentRequested", "OrderPaid", "ShipmentRequested"]
    seed_flow += ["OrderShipped", "OrderDelivered"]
    read = [e["event_type"] for e in timeline["results"] if e["event_type"] in seed_flow]
    assert read == seed_flow
    sequences = [e["sequence"] for e in timeline["results"]]
    assert sequences == sorted(sequences)
    payment_events = customer_client.get(
        f"/api/v1/orders/{order_id}/events/?aggregate_type=payment"
    ).json()["results"]
    assert [e["event_type"] for e in payment_events] == [
        "PaymentRequested",
        "PaymentSubmitted",
        "PaymentSucceeded",
    ]
    payment_id = str(StoredEvent.objects.get(event_type="PaymentRequested").aggregate_id)
    assert {(e["aggregate_type"], e["aggregate_id"]) for e in payment_events} == {
        ("payment", payment_id)
    }
    # Money in event payloads has the currency's decimals, not the column's four.
    # The total captured is the items (26.99) and the express shipping quoted at creation
    # (3 units: 14.90 + 2 x 1.50), which the shipment's rate repeats.
    assert event("OrderPaid").payload["amount"] == "44.89"
    assert event("PaymentSucceeded").payload["amount"] == "44.89"
    assert event("ShipmentRequested").payload["rate"] == "17.90"

    shipment = Shipment.objects.get(order_id=order_id)
    assert event("OrderShipped").payload["tracking_number"] == shipment.tracking_number
    detail = customer_client.get(f"/api/v1/orders/{order_id}/").json()
    assert detail["payment"]["status"] == "succeeded"
    assert (detail["subtotal"], detail["shipping_total"], detail["total"]) == (
        "26.99",
        "17.90",
        "44.89",
    )
    assert detail["payment"]["amount"] == "44.89"
    assert detail["shipment"]["status"] == "delivered"
    assert (detail["shipment"]["carrier"], detail["shipment"]["service_level"]) == (
        "UPS",
        "express",
    )
    assert detail["shipment"]["rate"] == "17.90"  # express, 3 units: 14.90 + 2 x 1.50


def test_a_wallet_payment_is_authorized_then_captured(
    customer_client: APIClient, customer: Any
) -> None:
    order_id = create(customer_client, "wallet")
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    assert paid["approval_url"]
    assert state(order_id) == "PENDING"
    PaymentService().authorize(
        AuthorizePayment(provider_reference=paid["provider_reference"], actor=PROVIDER)
    )
    assert state(order_id) == "PROCESSING"
    assert event_types() == [
        "OrderCreated",
        "PaymentRequested",
        "PaymentSubmitted",
        "PaymentAuthorized",
        "PaymentSucceeded",
        "OrderPaid",
        "ShipmentRequested",
        "OrderProcessingStarted",
    ]
    assert_reactions_succeeded()


def test_a_declined_payment_fails_the_order_with_the_providers_reason(
    customer_client: APIClient,
) -> None:
    order_id = create(customer_client, "card")
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"],
            succeeded=False,
            reason="card expired",
            actor=PROVIDER,
        )
    )
    assert state(order_id) == "FAILED"
    assert event_types() == [
        "OrderCreated",
        "PaymentRequested",
        "PaymentSubmitted",
        "PaymentDeclined",
        "PaymentFailed",
    ]
    assert event("PaymentFailed").payload["reason"] == "card expired"
    assert not Shipment.objects.exists()


def test_cancelling_a_pending_order_voids_and_a_late_capture_is_refunded(
    customer_client: APIClient,
) -> None:
    order_id = create(customer_client, "card")
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    cancelled = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert cancelled.status_code == 200, cancelled.content
    assert state(order_id) == "CANCELLED"
    assert event_types()[3:] == ["OrderCancelled", "PaymentVoided"]

    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"], succeeded=True, actor=PROVIDER
        )
    )
    assert state(order_id) == "CANCELLED"
    # The money goes back through the refund ledger; the provider answers the refund later.
    assert event_types()[5:] == ["PaymentSucceeded", "RefundRequested"]
    requested = event("RefundRequested").payload
    assert requested["amount"] == event("PaymentSucceeded").payload["amount"]
    PaymentService().record_refund_result(
        RecordRefundResult(
            provider_reference=paid["provider_reference"],
            refund_reference=requested["refund_reference"],
            succeeded=True,
            actor=PROVIDER,
        )
    )
    assert event_types()[7:] == ["RefundSucceeded", "PaymentRefunded"]
    assert_reactions_succeeded()


def test_a_paid_order_is_processed_at_once_and_can_no_longer_be_cancelled(
    customer_client: APIClient,
) -> None:
    # The test runs the subscriptions right after the payment commits, so
    # the window in which a PAID order can be cancelled (and refunded) closes immediately. The
    # refund of a cancelled PAID order is shown in apps/payments/tests/test_cancellation.py.
    order_id = create(customer_client, "bank_transfer")
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/").json()
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"], succeeded=True, actor=PROVIDER
        )
    )
    assert state(order_id) == "PROCESSING"
    refused = customer_client.post(f"/api/v1/orders/{order_id}/cancel/", {}, format="json")
    assert refused.status_code == 409
    assert refused.json()["code"] == "invalid_state_transition"
    assert state(order_id) == "PROCESSING"
    assert not StoredEvent.objects.filter(event_type="PaymentRefunded").exists()
