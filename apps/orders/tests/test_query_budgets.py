"""Query counts do not grow with the number of items or orders."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.orders.tests.factories import create_order

pytestmark = pytest.mark.django_db


def body(items: int) -> dict[str, Any]:
    return {
        "currency": "EUR",
        "items": [
            {"sku": f"S{i}", "name": f"N{i}", "quantity": 1, "unit_price": "1.00"}
            for i in range(items)
        ],
    }


def queries_for(call: Any) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return len(captured)


def test_creating_an_order_costs_the_same_with_1_and_with_50_items(
    customer_client: APIClient,
) -> None:
    post = customer_client.post
    # The first request authenticates and warms nothing up that later ones would not pay for.
    one = queries_for(lambda: post("/api/v1/orders/", body(1), format="json"))
    fifty = queries_for(lambda: post("/api/v1/orders/", body(50), format="json"))
    assert one == fifty
    assert fifty <= 16


def test_a_page_of_50_orders_costs_the_same_as_a_page_of_5(
    customer_client: APIClient, customer: Any
) -> None:
    for _ in range(5):
        create_order(customer, items=3)
    small = queries_for(lambda: customer_client.get("/api/v1/orders/?page_size=50"))
    for _ in range(45):
        create_order(customer, items=7)
    full = queries_for(lambda: customer_client.get("/api/v1/orders/?page_size=50"))
    assert small == full
    # + one query per summary provider (payment, shipment) for the whole page.
    assert full <= 6


def test_order_detail_costs_the_same_with_1_and_with_40_items(
    customer_client: APIClient, customer: Any
) -> None:
    small = create_order(customer, items=1)
    large = create_order(customer, items=40)
    assert queries_for(lambda: customer_client.get(f"/api/v1/orders/{small.id}/")) == queries_for(
        lambda: customer_client.get(f"/api/v1/orders/{large.id}/")
    )
