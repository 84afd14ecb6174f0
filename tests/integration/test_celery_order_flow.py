"""The seed's event flow with every reaction in a real Celery worker (with beat)."""

from __future__ import annotations

import pytest
from django.conf import LazySettings
from rest_framework.test import APIClient

from apps.events import lag
from apps.events.models import ParkedEvent, StoredEvent
from apps.orders.commands import Actor
from apps.orders.models import Order, OrderSummary
from apps.payments.commands import RecordPaymentResult
from apps.payments.services import PaymentService
from tests.integration.celery_worker import running_worker, wait_until
from tests.integration.test_order_flow import create

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


def event_types() -> list[str]:
    return list(StoredEvent.objects.order_by("position").values_list("event_type", flat=True))


def has_event(event_type: str) -> bool:
    return StoredEvent.objects.filter(event_type=event_type).exists()


def test_an_order_travels_to_delivered_with_handlers_in_a_celery_worker(
    settings: LazySettings, customer_client: APIClient, staff_client: APIClient
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    with running_worker(concurrency=2):
        order_id = create(customer_client, "card")
        wait_until(lambda: has_event("PaymentRequested"), what="the payment handler")

        paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/")
        assert paid.status_code == 202, paid.content
        PaymentService().record_result(
            RecordPaymentResult(
                provider_reference=paid.json()["provider_reference"],
                succeeded=True,
                actor=Actor.system(),
            )
        )
        wait_until(
            lambda: Order.objects.get(id=order_id).state == "PROCESSING",
            what="the shipping handler to start processing",
        )
        assert staff_client.post(f"/api/v1/orders/{order_id}/ship/").status_code == 200
        assert staff_client.post(f"/api/v1/orders/{order_id}/deliver/").status_code == 200
        wait_until(
            lambda: all(row.behind == 0 for row in lag.status()),
            what="every subscription to reach the head of the log",
        )

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
    summary = OrderSummary.objects.get(order_id=order_id)
    assert (summary.state, summary.payment_status, summary.shipment_status) == (
        "DELIVERED",
        "succeeded",
        "delivered",
    )
    assert not ParkedEvent.objects.exists()
