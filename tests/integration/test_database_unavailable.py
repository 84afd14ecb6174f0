"""A database that drops the connection mid-request is an outage, not a bug: the answer is a 503
problem with ``Retry-After`` that invites the client to retry with the same Idempotency-Key, and
nothing the request began is kept.

The failure is the database's (an external system): Django's ``execute_wrapper`` makes the
request's INSERT fail as a connection killed by the server would, before it reaches the database.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import InterfaceError, OperationalError, connection

from apps.events.models import StoredEvent
from apps.idempotency.models import IdempotencyRecord
from apps.orders.models import Order

pytestmark = pytest.mark.django_db

BODY = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 1, "unit_price": "12.50"}],
}


def connection_lost_on(table: str, error: type[Exception]) -> Any:
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if sql.lstrip().upper().startswith("INSERT") and table in sql:
            raise error("server closed the connection unexpectedly")
        return execute(sql, params, many, context)

    return wrapper


@pytest.mark.parametrize("error", [OperationalError, InterfaceError])
def test_a_connection_lost_mid_request_is_503_with_retry_after_and_writes_nothing(
    customer_client: Any, error: type[Exception]
) -> None:
    with connection.execute_wrapper(connection_lost_on("orders_order", error)):
        answer = customer_client.post(
            "/api/v1/orders/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="lost-connection-1"
        )
    assert answer.status_code == 503
    assert answer["Content-Type"].startswith("application/problem+json")
    assert answer["Retry-After"] == "1"
    problem = answer.json()
    assert problem["code"] == "database_unavailable"
    assert problem["status"] == 503
    assert "Idempotency-Key" in problem["detail"]
    assert Order.objects.count() == 0
    assert StoredEvent.objects.count() == 0
    assert IdempotencyRecord.objects.count() == 0

    # The retry the answer invites, with the same key, is applied once.
    retried = customer_client.post(
        "/api/v1/orders/", BODY, format="json", HTTP_IDEMPOTENCY_KEY="lost-connection-1"
    )
    assert retried.status_code == 201
    assert Order.objects.count() == 1


def test_a_bug_is_still_a_500_not_an_outage(customer_client: Any) -> None:
    # Only a lost or refused connection is the database's outage; any other error stays a 500.
    with connection.execute_wrapper(connection_lost_on("orders_order", ZeroDivisionError)):
        answer = customer_client.post("/api/v1/orders/", BODY, format="json")
    assert answer.status_code == 500
    assert answer.json()["code"] == "internal_error"
    assert Order.objects.count() == 0
