"""Copies of one webhook at the same moment, each on its own thread and database connection."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.payments.tests.helpers import submitted_order
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import (
    event_types,
    new_webhook_id,
    payment_succeeded,
    post_webhook,
    shipment_message,
    state_of,
)
from tests.support.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

PAID_FLOW = [
    "OrderCreated",
    "PaymentRequested",
    "PaymentSubmitted",
    "PaymentSucceeded",
    "OrderPaid",
    "ShipmentRequested",
    "OrderProcessingStarted",
]


@pytest.mark.parametrize(("copies", "round_"), [(2, 1), (2, 2), (2, 3), (6, 1)])
def test_concurrent_copies_of_one_webhook_make_one_transition(
    customer: Any, copies: int, round_: int
) -> None:
    order, payment = submitted_order(customer, "card")
    webhook_id = new_webhook_id()
    message = payment_succeeded(payment)
    responses = race(
        *[
            lambda: post_webhook(APIClient(), "payment", message, webhook_id=webhook_id)
            for _ in range(copies)
        ]
    )
    for response in responses:
        assert not isinstance(response, Exception), response
        assert response.status_code == 200, response.content
    answered = Counter(response.json()["outcome"] for response in responses)
    assert answered == {"processed": 1, "duplicate": copies - 1}
    assert Counter(WebhookLog.objects.values_list("outcome", flat=True)) == {
        WebhookOutcome.PROCESSED: 1,
        WebhookOutcome.DUPLICATE: copies - 1,
    }
    # One transition and one set of events: the payment once, and each reaction to it once.
    assert state_of(order.id) == "PROCESSING"
    assert event_types(order.id) == PAID_FLOW


@pytest.mark.parametrize("round_", range(3))
def test_shipped_and_delivered_at_once_end_delivered_with_events_in_order(
    customer: Any, round_: int
) -> None:
    order, payment = submitted_order(customer, "card")
    post_webhook(APIClient(), "payment", payment_succeeded(payment))
    responses = race(
        lambda: post_webhook(APIClient(), "shipping", shipment_message("shipped", order.id)),
        lambda: post_webhook(APIClient(), "shipping", shipment_message("delivered", order.id)),
    )
    for response in responses:
        assert not isinstance(response, Exception), response
        assert response.status_code == 200, response.content
    # Whichever came first, the other found its step done (ignored) or applied after it.
    assert {r.json()["outcome"] for r in responses} <= {"processed", "ignored"}
    assert state_of(order.id) == "DELIVERED"
    assert event_types(order.id) == [
        *PAID_FLOW,
        "ShipmentShipped",
        "OrderShipped",
        "ShipmentDelivered",
        "OrderDelivered",
    ]
