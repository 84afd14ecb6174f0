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

from apps.orders import sections
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to

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


def writes_of(statements: list[str]) -> list[str]:
    return [sql.split('"')[1] for sql in statements if sql.startswith(("INSERT", "UPDATE"))]


def assert_no_read_of_own_writes(statements: list[str]) -> None:
    """No SELECT reads a table that an earlier statement of the same request wrote to."""
    written: set[str] = set()
    for sql in statements:
        table = sql.split('"')[1] if '"' in sql else ""
        if sql.startswith(("INSERT", "UPDATE", "DELETE")):
            written.add(table)
        elif sql.startswith("SELECT"):
            read = {name for name in sql.split('"')[1::2] if name in written}
            assert not read, f"{sql[:120]} reads {read}, written earlier in the request"


def warm_authentication(client: APIClient) -> None:
    """One request, so that the token is already trusted (cached) when counting starts."""
    assert client.get("/api/v1/orders/").status_code == 200


def test_creating_an_order_is_one_commit_with_nothing_read_whatever_the_items(
    customer_client: APIClient, settings: Any
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    warm_authentication(customer_client)
    post = customer_client.post
    one = statements_of(lambda: post("/api/v1/orders/", body(1), format="json"))
    three = statements_of(lambda: post("/api/v1/orders/", body(3), format="json"))
    fifty = statements_of(lambda: post("/api/v1/orders/", body(50), format="json"))
    assert len(one) == len(three) == len(fifty)
    assert sum(sql.startswith("COMMIT") for sql in three) == 1
    # The writes: the order, its items (one statement), its event, the two projections' rows.
    # Nothing per handler, no checkpoint row, nothing updated or deleted.
    assert writes_of(three) == [
        "orders_order",
        "orders_orderitem",
        "events_storedevent",
        "orders_ordersummary",
        "orders_orderstatechange",
    ]
    # BEGIN, those 5 writes, COMMIT: the token is trusted from the cache and the response is
    # made from what was written, so nothing at all is read.
    assert not [sql for sql in one + three + fifty if sql.startswith("SELECT")]
    assert len(three) == 7, three


def test_the_create_response_is_the_order_as_written(customer_client: APIClient) -> None:
    response = customer_client.post("/api/v1/orders/", body(3), format="json")
    assert response.status_code == 201
    shown = customer_client.get(response["Location"])
    created, detail = response.json(), shown.json()
    for field in ("id", "customer_id", "state", "currency", "total", "items", "version"):
        assert created[field] == detail[field], field
    assert created["created_at"] == detail["created_at"]
    assert response["ETag"] == shown["ETag"] == '"1"'
    # Its payment is requested by a reaction after the commit: none at the commit.
    assert created["payment"] is None
    assert created["shipment"] is None


def test_paying_an_order_reads_nothing_it_wrote(
    customer_client: APIClient, customer: Any, settings: Any
) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    warm_authentication(customer_client)
    small = create_order(customer, items=1)
    large = create_order(customer, items=50)
    pay_small = statements_of(
        lambda: customer_client.post(f"/api/v1/orders/{small.id}/pay/", {}, format="json")
    )
    pay_large = statements_of(
        lambda: customer_client.post(f"/api/v1/orders/{large.id}/pay/", {}, format="json")
    )
    assert len(pay_small) == len(pay_large)
    assert sum(sql.startswith("COMMIT") for sql in pay_small) == 1
    assert_no_read_of_own_writes(pay_small)
    assert writes_of(pay_small) == [
        "payments_payment",
        "events_storedevent",  # PaymentRequested
        "orders_ordersummary",
        "payments_payment",
        "events_storedevent",  # PaymentSubmitted
        "orders_ordersummary",
    ]


def test_order_detail_with_payment_and_shipment_is_two_queries_with_authentication(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer, items=3, shipping_method="express")
    # With the reactions after commit, paying leads to a shipment: both sections are filled.
    assert (
        customer_client.post(f"/api/v1/orders/{order.id}/pay/", {}, format="json").status_code
        == 202
    )
    move_to(order, OrderState.PAID)
    warm_authentication(customer_client)
    with CaptureQueriesContext(connection) as captured:
        response = customer_client.get(f"/api/v1/orders/{order.id}/")
    assert response.status_code == 200
    assert len(captured) <= 2, [q["sql"][:80] for q in captured.captured_queries]
    shown = response.json()
    assert shown["payment"] is not None
    assert shown["shipment"] is not None
    # Carried in the order's query, the sections say exactly what the page queries say.
    separately = sections.sections_for([order.id])
    assert shown["payment"] == separately["payment"][order.id]
    assert shown["shipment"] == separately["shipment"][order.id]


def test_order_detail_costs_the_same_with_1_and_with_40_items(
    customer_client: APIClient, customer: Any
) -> None:
    small = create_order(customer, items=1)
    large = create_order(customer, items=40)
    warm_authentication(customer_client)
    assert queries_for(lambda: customer_client.get(f"/api/v1/orders/{small.id}/")) == queries_for(
        lambda: customer_client.get(f"/api/v1/orders/{large.id}/")
    )
