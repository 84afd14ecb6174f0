"""Query counts do not grow with the number of items or orders, and the write path is lean.

Commits are real here. The subscriptions are not run after the commit (as in production, where
workers run them): what is counted is the request's own work. The list's budget is asserted in
test_read_api.py.
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


def statements_of(call: Any) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        response = call()
    assert response.status_code < 300, response.content
    return [query["sql"] for query in captured.captured_queries]


def queries_for(call: Any) -> int:
    return len(statements_of(call))


def test_creating_an_order_is_one_commit_with_no_per_handler_rows_whatever_the_items(
    customer_client: APIClient, settings: Any
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    post = customer_client.post
    one = statements_of(lambda: post("/api/v1/orders/", body(1), format="json"))
    three = statements_of(lambda: post("/api/v1/orders/", body(3), format="json"))
    fifty = statements_of(lambda: post("/api/v1/orders/", body(50), format="json"))
    assert len(one) == len(three) == len(fifty)
    assert sum(sql.startswith("COMMIT") for sql in three) == 1
    # The writes: the order, its items (one statement), its event, the two projections' rows.
    # Nothing per handler, no checkpoint row, nothing updated or deleted.
    written = [sql.split('"')[1] for sql in three if sql.startswith(("INSERT", "UPDATE", "DELETE"))]
    assert written == [
        "orders_order",
        "orders_orderitem",
        "events_storedevent",
        "orders_ordersummary",
        "orders_orderstatechange",
    ]
    # Token lookup, BEGIN, those 5 writes, COMMIT, and the response's read of the order, its
    # items, payment and shipment (4 statements the request path issue will remove).
    assert len(three) == 12, three


def test_order_detail_costs_the_same_with_1_and_with_40_items(
    customer_client: APIClient, customer: Any
) -> None:
    small = create_order(customer, items=1)
    large = create_order(customer, items=40)
    assert queries_for(lambda: customer_client.get(f"/api/v1/orders/{small.id}/")) == queries_for(
        lambda: customer_client.get(f"/api/v1/orders/{large.id}/")
    )
