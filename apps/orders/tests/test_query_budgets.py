"""Query counts do not grow with the number of items or orders.

Commits are real here, so a create's count includes what runs after it in the same request with
the inline backend: the payment request and its outbox bookkeeping. The list's
budget is asserted in test_read_api.py.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.orders.tests.factories import create_order

pytestmark = pytest.mark.django_db(transaction=True)


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
    # The very first order creates the projections' checkpoint rows; measure the steady state.
    post("/api/v1/orders/", body(1), format="json")
    one = queries_for(lambda: post("/api/v1/orders/", body(1), format="json"))
    fifty = queries_for(lambda: post("/api/v1/orders/", body(50), format="json"))
    assert one == fifty
    # The request (with the projections applied in its transaction), then the inline delivery of
    # the payment request; none of it depends on the number of items.
    assert fifty <= 34, fifty


def test_order_detail_costs_the_same_with_1_and_with_40_items(
    customer_client: APIClient, customer: Any
) -> None:
    small = create_order(customer, items=1)
    large = create_order(customer, items=40)
    assert queries_for(lambda: customer_client.get(f"/api/v1/orders/{small.id}/")) == queries_for(
        lambda: customer_client.get(f"/api/v1/orders/{large.id}/")
    )
