"""Twins: requests with one key at the same moment, each on its own thread and connection."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, transaction
from rest_framework.response import Response
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.idempotency import records
from apps.idempotency.keys import request_fingerprint
from apps.idempotency.models import IdempotencyRecord
from apps.orders.models import Order
from apps.orders.tests.factories import create_order
from conftest import token_client
from tests.support.concurrency import race

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ORDER_BODY: dict[str, Any] = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}


def post_with_key(client: APIClient, url: str, body: dict[str, Any], key: str) -> Any:
    return client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def split(responses: list[Any], success: int) -> tuple[list[Any], list[Any], list[Any]]:
    """(first executions, replays, in-progress refusals); anything else fails the test."""
    fresh, replayed, busy = [], [], []
    for response in responses:
        assert not isinstance(response, Exception), response
        if response.status_code == success and not response.has_header("Idempotent-Replayed"):
            fresh.append(response)
        elif response.status_code == success and response["Idempotent-Replayed"] == "true":
            replayed.append(response)
        elif response.status_code == 409:
            assert response.json()["code"] == "idempotency_key_in_progress", response.content
            busy.append(response)
        else:
            pytest.fail(f"unexpected answer {response.status_code}: {response.content!r}")
    return fresh, replayed, busy


@pytest.mark.parametrize("rounds", range(3))
def test_ten_concurrent_creates_with_one_key_make_one_order(customer: Any, rounds: int) -> None:
    clients = [token_client(customer) for _ in range(10)]
    responses = race(
        *[lambda c=c: post_with_key(c, "/api/v1/orders/", ORDER_BODY, "same") for c in clients]
    )
    fresh, replayed, busy = split(responses, 201)
    assert len(fresh) == 1
    assert len(fresh) + len(replayed) + len(busy) == 10
    order_id = fresh[0].json()["id"]
    assert all(r.json()["id"] == order_id for r in replayed)
    assert Order.objects.filter(customer=customer).count() == 1
    # One set of events: the order's creation once, and each reaction to it (handlers run after
    # commit here) once.
    event_types = list(StoredEvent.objects.values_list("event_type", flat=True))
    assert event_types.count("OrderCreated") == 1
    assert len(event_types) == len(set(event_types)), event_types
    assert IdempotencyRecord.objects.count() == 1


def test_ten_concurrent_cancels_with_one_key_append_one_event(customer: Any) -> None:
    order = create_order(customer)
    url = f"/api/v1/orders/{order.id}/cancel/"
    clients = [token_client(customer) for _ in range(10)]
    responses = race(*[lambda c=c: post_with_key(c, url, {"reason": "r"}, "same") for c in clients])
    fresh, replayed, busy = split(responses, 200)
    assert len(fresh) == 1
    assert len(fresh) + len(replayed) + len(busy) == 10
    assert all(r.json() == fresh[0].json() for r in replayed)
    assert list(
        StoredEvent.objects.filter(aggregate_id=order.id).values_list("event_type", flat=True)
    ) == ["OrderCreated", "OrderCancelled"]


def hold_key_in_open_transaction(
    customer: Any, body: dict[str, Any], *, response: Response | None, hold_seconds: float
) -> tuple[threading.Thread, threading.Event]:
    """A twin that claims the key for the create endpoint and keeps its transaction open.

    With ``response`` it stores that response and commits after ``hold_seconds``; without one it
    rolls back, as a failing request does.
    """
    claimed = threading.Event()

    def twin() -> None:
        try:
            with transaction.atomic():
                claim = records.claim(
                    owner=str(customer.pk),
                    scope="POST /api/v1/orders/",
                    key="same",
                    fingerprint=request_fingerprint("POST", "/api/v1/orders/", body),
                )
                assert claim.is_new
                claimed.set()
                time.sleep(hold_seconds)
                if response is None:
                    transaction.set_rollback(True)
                else:
                    records.remember(claim.record, response)
        finally:
            claimed.set()
            connection.close()

    thread = threading.Thread(target=twin)
    thread.start()
    return thread, claimed


def test_a_twin_still_running_makes_the_request_answer_409_and_its_rollback_frees_the_key(
    customer: Any, settings: Any
) -> None:
    settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS = 200
    thread, claimed = hold_key_in_open_transaction(
        customer, ORDER_BODY, response=None, hold_seconds=1.5
    )
    claimed.wait(5)
    client = token_client(customer)
    started = time.monotonic()
    busy = post_with_key(client, "/api/v1/orders/", ORDER_BODY, "same")
    waited = time.monotonic() - started
    assert busy.status_code == 409
    assert busy["Content-Type"] == "application/problem+json"
    assert busy.json()["code"] == "idempotency_key_in_progress"
    assert 0.15 <= waited < 1.4  # gave up after the lock timeout, not after the twin
    assert Order.objects.count() == 0
    thread.join()

    # The twin failed and stored nothing: the same key now runs the command.
    retried = post_with_key(client, "/api/v1/orders/", ORDER_BODY, "same")
    assert retried.status_code == 201
    assert not retried.has_header("Idempotent-Replayed")
    assert Order.objects.count() == 1


def test_a_request_that_gets_the_lock_after_its_twin_committed_replays_it(
    customer: Any, settings: Any
) -> None:
    settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS = 5000
    stored = Response({"id": "from-the-twin"}, status=201, headers={"Location": "/twin/"})
    thread, claimed = hold_key_in_open_transaction(
        customer, ORDER_BODY, response=stored, hold_seconds=0.3
    )
    claimed.wait(5)
    response = post_with_key(token_client(customer), "/api/v1/orders/", ORDER_BODY, "same")
    thread.join()
    assert response.status_code == 201
    assert response["Idempotent-Replayed"] == "true"
    assert response["Location"] == "/twin/"
    assert response.json() == {"id": "from-the-twin"}
    assert Order.objects.count() == 0  # the command itself never ran a second time


def test_a_twin_with_a_different_request_is_422_once_the_first_committed(
    customer: Any, settings: Any
) -> None:
    settings.OMS_IDEMPOTENCY_LOCK_TIMEOUT_MS = 5000
    stored = Response({"id": "from-the-twin"}, status=201)
    thread, claimed = hold_key_in_open_transaction(
        customer, ORDER_BODY, response=stored, hold_seconds=0.3
    )
    claimed.wait(5)
    changed = {**ORDER_BODY, "currency": "USD"}
    response = post_with_key(token_client(customer), "/api/v1/orders/", changed, "same")
    thread.join()
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert Order.objects.count() == 0
