"""The query endpoints, served by the projections (commits are real, so projections run live)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to

pytestmark = pytest.mark.django_db(transaction=True)


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_customer_lists_only_their_own_orders(
    customer_client: APIClient, customer: Any, other_customer: Any
) -> None:
    mine = [create_order(customer) for _ in range(2)]
    create_order(other_customer)
    assert ids(customer_client.get("/api/v1/orders/")) == [str(o.id) for o in reversed(mine)]


def test_staff_list_everything_and_filter_by_state(
    staff_client: APIClient, customer: Any, other_customer: Any
) -> None:
    pending = create_order(customer)
    cancelled = move_to(create_order(other_customer), OrderState.CANCELLED)
    failed = move_to(create_order(customer), OrderState.FAILED)
    assert set(ids(staff_client.get("/api/v1/orders/"))) == {
        str(pending.id),
        str(cancelled.id),
        str(failed.id),
    }
    assert ids(staff_client.get("/api/v1/orders/?state=CANCELLED")) == [str(cancelled.id)]
    bad = staff_client.get("/api/v1/orders/?state=LOST")
    assert bad.status_code == 400
    assert bad.json()["code"] == "validation_error"


def test_the_list_shows_the_summary_of_each_order(
    customer_client: APIClient, customer: Any
) -> None:
    order = move_to(create_order(customer, items=3), OrderState.DELIVERED)
    (row,) = customer_client.get("/api/v1/orders/").json()["results"]
    assert row["state"] == "DELIVERED"
    assert row["item_count"] == 1 + 2 + 3
    assert row["line_count"] == 3
    assert row["total"] == "60.00"
    assert row["version"] == order.version
    assert row["paid_at"] is not None
    assert row["delivered_at"] is not None


def test_the_list_filters_by_creation_time(customer_client: APIClient, customer: Any) -> None:
    first = create_order(customer)
    second = create_order(customer)
    boundary = quote(second.created_at.isoformat())
    assert ids(customer_client.get(f"/api/v1/orders/?created_after={boundary}")) == [str(second.id)]
    assert ids(customer_client.get(f"/api/v1/orders/?created_before={boundary}")) == [str(first.id)]
    later = quote((second.created_at + timedelta(days=1)).isoformat())
    assert ids(customer_client.get(f"/api/v1/orders/?created_after={later}")) == []
    assert customer_client.get("/api/v1/orders/?created_after=yesterday").status_code == 400


def test_the_list_is_cursor_paginated(customer_client: APIClient, customer: Any) -> None:
    created = [create_order(customer) for _ in range(5)]
    first = customer_client.get("/api/v1/orders/?page_size=2").json()
    second = customer_client.get(first["next"]).json()
    third = customer_client.get(second["next"]).json()
    seen = [row["id"] for page in (first, second, third) for row in page["results"]]
    assert seen == [str(o.id) for o in reversed(created)]
    assert third["next"] is None


def test_the_list_costs_the_same_queries_for_few_and_many_orders_and_items(
    customer_client: APIClient, customer: Any
) -> None:
    def cost() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = customer_client.get("/api/v1/orders/?page_size=50")
        assert response.status_code == 200
        return len(captured)

    create_order(customer, items=1)
    assert cost() == 2  # the token's lookup (then cached) and the page
    few = cost()
    for _ in range(60):
        create_order(customer, items=8)
    many = cost()
    assert few == many
    assert many == 1  # the page of summaries, nothing per order, the token trusted from the cache


def test_history_comes_from_the_projection(customer_client: APIClient, customer: Any) -> None:
    order = move_to(create_order(customer), OrderState.CANCELLED)
    history = customer_client.get(f"/api/v1/orders/{order.id}/history/").json()["results"]
    assert [(h["from_state"], h["to_state"]) for h in history] == [
        (None, "PENDING"),
        ("PENDING", "CANCELLED"),
    ]
    assert history[-1]["reason"] == "changed my mind"


@pytest.mark.parametrize("position", ["garbage", "2026-13-45T99:99:99"])
def test_a_tampered_cursor_is_400_naming_the_cursor(
    customer_client: APIClient, position: str
) -> None:
    import base64

    cursor = base64.b64encode(f"o=0&r=0&p={position}".encode()).decode()
    response = customer_client.get(f"/api/v1/orders/?cursor={quote(cursor)}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert "cursor" in response.json()["errors"]
