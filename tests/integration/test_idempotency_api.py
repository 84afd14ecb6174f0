"""Idempotency keys on the real state-changing endpoints, through HTTP and the real database.

Each behaviour is checked on order create, cancel and process (and, below, on the dead-letter
retry). "Nothing written" is checked by counting orders, items, events, deliveries and records.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent
from apps.events.registry import registry
from apps.idempotency.models import IdempotencyRecord
from apps.orders.models import Order, OrderItem
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from conftest import token_client
from shared.clock import frozen_clock

pytestmark = pytest.mark.django_db

ORDER_BODY: dict[str, Any] = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}


@dataclass(frozen=True)
class Endpoint:
    """One state-changing endpoint, and how to call it for a given user's order."""

    name: str
    staff_only: bool
    success: int
    body: dict[str, Any]
    changed_body: dict[str, Any]
    # Puts an order of ``customer`` into the state the command needs; returns the URL to post to.
    prepare: Callable[[Any], str] = field(repr=False)


def _create_url(customer: Any) -> str:
    return "/api/v1/orders/"


def _cancel_url(customer: Any) -> str:
    return f"/api/v1/orders/{create_order(customer).id}/cancel/"


def _process_url(customer: Any) -> str:
    return f"/api/v1/orders/{move_to(create_order(customer), OrderState.PAID).id}/process/"


CREATE = Endpoint(
    "create",
    staff_only=False,
    success=201,
    body=ORDER_BODY,
    changed_body={**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "quantity": 3}]},
    prepare=_create_url,
)
CANCEL = Endpoint(
    "cancel",
    staff_only=False,
    success=200,
    body={"reason": "changed my mind"},
    changed_body={"reason": "found it cheaper"},
    prepare=_cancel_url,
)
PROCESS = Endpoint(
    "process",
    staff_only=True,
    success=200,
    body={},
    changed_body={"note": "rush"},
    prepare=_process_url,
)
ENDPOINTS = [pytest.param(e, id=e.name) for e in (CREATE, CANCEL, PROCESS)]


def written() -> tuple[int, int, int, int, int]:
    return (
        Order.objects.count(),
        OrderItem.objects.count(),
        StoredEvent.objects.count(),
        ParkedEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def send(client: APIClient, url: str, body: dict[str, Any], key: str | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(url, body, format="json", **headers)


def assert_problem(response: Any, status: int, code: str) -> None:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.fixture
def caller(endpoint: Endpoint, customer_client: APIClient, staff_client: APIClient) -> APIClient:
    return staff_client if endpoint.staff_only else customer_client


# --- replay ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_retry_with_the_same_key_replays_the_first_response(
    endpoint: Endpoint, caller: APIClient, customer: Any
) -> None:
    url = endpoint.prepare(customer)
    first = send(caller, url, endpoint.body, key="key-1")
    assert first.status_code == endpoint.success, first.content
    after_first = written()

    again = send(caller, url, endpoint.body, key="key-1")
    # The body form of the same key is the same request.
    body_form = send(caller, url, {**endpoint.body, "idempotency_key": "key-1"})

    for replay in (again, body_form):
        assert replay.status_code == endpoint.success
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
        assert replay["ETag"] == first["ETag"]
        assert replay["Content-Type"] == "application/json"
    assert not first.has_header("Idempotent-Replayed")
    if endpoint is CREATE:
        assert again["Location"] == first["Location"]
    assert written() == after_first
    last_event = StoredEvent.objects.filter(aggregate_id=first.json()["id"]).last()
    assert last_event is not None
    assert last_event.idempotency_key == "key-1"


# --- mismatch --------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_same_key_with_a_different_request_is_422_and_writes_nothing(
    endpoint: Endpoint, caller: APIClient, customer: Any
) -> None:
    url = endpoint.prepare(customer)
    first = send(caller, url, endpoint.body, key="key-1")
    assert first.status_code == endpoint.success
    before = written()

    assert_problem(
        send(caller, url, endpoint.changed_body, key="key-1"), 422, "idempotency_key_reused"
    )
    assert written() == before
    # The key still stands for the first request.
    assert send(caller, url, endpoint.body, key="key-1")["Idempotent-Replayed"] == "true"


# --- validation (or domain rejection), then a retry with the same key ------------------------


def test_a_rejected_create_stores_nothing_and_the_corrected_retry_succeeds(
    customer_client: APIClient,
) -> None:
    before = written()
    invalid = {**ORDER_BODY, "items": []}
    assert_problem(
        send(customer_client, "/api/v1/orders/", invalid, key="k"), 400, "validation_error"
    )
    assert written() == before

    corrected = send(customer_client, "/api/v1/orders/", ORDER_BODY, key="k")
    assert corrected.status_code == 201
    assert not corrected.has_header("Idempotent-Replayed")
    assert Order.objects.count() == before[0] + 1


def test_a_rejected_cancel_stores_nothing_and_the_corrected_retry_succeeds(
    customer_client: APIClient, customer: Any
) -> None:
    url = _cancel_url(customer)
    before = written()
    too_long = {"reason": "x" * 501}
    assert_problem(send(customer_client, url, too_long, key="k"), 400, "validation_error")
    assert written() == before

    corrected = send(customer_client, url, {"reason": "changed my mind"}, key="k")
    assert corrected.status_code == 200
    assert corrected.json()["state"] == "CANCELLED"
    assert not corrected.has_header("Idempotent-Replayed")


def test_a_process_refused_by_the_domain_stores_nothing_and_succeeds_once_allowed(
    staff_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)  # PENDING: cannot be processed yet
    url = f"/api/v1/orders/{order.id}/process/"
    before = written()
    assert_problem(send(staff_client, url, {}, key="k"), 409, "invalid_state_transition")
    assert written() == before

    move_to(order, OrderState.PAID)
    retried = send(staff_client, url, {}, key="k")
    assert retried.status_code == 200
    assert retried.json()["state"] == "PROCESSING"
    assert not retried.has_header("Idempotent-Replayed")


# --- scope: the caller and the endpoint ------------------------------------------------------


def test_the_same_key_from_two_customers_makes_two_orders(
    customer_client: APIClient, other_client: APIClient
) -> None:
    mine = send(customer_client, "/api/v1/orders/", ORDER_BODY, key="shared")
    theirs = send(other_client, "/api/v1/orders/", ORDER_BODY, key="shared")
    assert mine.status_code == theirs.status_code == 201
    assert not theirs.has_header("Idempotent-Replayed")
    assert mine.json()["id"] != theirs.json()["id"]
    assert mine.json()["customer_id"] != theirs.json()["customer_id"]
    assert Order.objects.count() == 2


@pytest.mark.parametrize("endpoint", [pytest.param(e, id=e.name) for e in (CANCEL, PROCESS)])
def test_another_callers_key_on_the_same_order_is_not_a_replay(
    endpoint: Endpoint, caller: APIClient, make_user: Callable[..., Any], customer: Any
) -> None:
    url = endpoint.prepare(customer)
    assert send(caller, url, endpoint.body, key="shared").status_code == 200
    other = token_client(make_user(staff=True))
    # The other caller's command really runs, and finds the order already moved on.
    assert_problem(send(other, url, endpoint.body, key="shared"), 409, "invalid_state_transition")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_the_same_key_on_another_endpoint_is_independent(
    endpoint: Endpoint, caller: APIClient, customer_client: APIClient, customer: Any
) -> None:
    # Use the key first elsewhere: on create for the commands, on a cancel for create.
    if endpoint is CREATE:
        elsewhere = send(customer_client, _cancel_url(customer), {"reason": "r"}, key="shared")
    else:
        elsewhere = send(customer_client, "/api/v1/orders/", ORDER_BODY, key="shared")
    assert elsewhere.status_code in (200, 201)
    url = endpoint.prepare(customer)
    events = StoredEvent.objects.count()

    response = send(caller, url, endpoint.body, key="shared")
    assert response.status_code == endpoint.success
    assert not response.has_header("Idempotent-Replayed")
    assert StoredEvent.objects.count() == events + 1


# --- expiry ----------------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_an_expired_key_is_treated_as_new(
    endpoint: Endpoint, caller: APIClient, customer: Any
) -> None:
    ttl = timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS)
    with frozen_clock() as clock:
        url = endpoint.prepare(customer)
        first = send(caller, url, endpoint.body, key="k")
        assert first.status_code == endpoint.success
        clock.advance(ttl - timedelta(seconds=1))
        assert send(caller, url, endpoint.body, key="k")["Idempotent-Replayed"] == "true"

        clock.advance(timedelta(seconds=1))
        events = StoredEvent.objects.count()
        if endpoint is CREATE:
            # Even a different body is fine now: the old key is gone, a new order is made.
            again = send(caller, url, endpoint.changed_body, key="k")
            assert again.status_code == 201
            assert not again.has_header("Idempotent-Replayed")
            assert again.json()["id"] != first.json()["id"]
            assert StoredEvent.objects.count() == events + 1
        else:
            # The command runs again instead of being replayed, and finds its work done.
            again = send(caller, url, endpoint.body, key="k")
            assert_problem(again, 409, "invalid_state_transition")
            assert StoredEvent.objects.count() == events
        assert IdempotencyRecord.objects.filter(key="k").count() == 1


# --- keys required ---------------------------------------------------------------------------


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_when_keys_are_required_a_command_without_one_is_400(
    endpoint: Endpoint, caller: APIClient, customer: Any, settings: Any
) -> None:
    url = endpoint.prepare(customer)
    settings.OMS_IDEMPOTENCY_KEY_REQUIRED = True
    before = written()
    response = send(caller, url, endpoint.body)
    assert_problem(response, 400, "validation_error")
    assert "Idempotency-Key" in response.json()["errors"]
    assert written() == before
    assert send(caller, url, endpoint.body, key="k").status_code == endpoint.success


# --- the dead-letter retry (its route is made idempotent in core/urls.py) --------------------


class CountingFailingHandler:
    calls = 0

    def handle(self, event: Any) -> None:
        CountingFailingHandler.calls += 1
        raise RuntimeError("still broken")


@pytest.fixture
def dead_delivery(customer: Any) -> Any:
    name = "tests.idempotency.counting-failing"
    # Registered for no real event type, so only the delivery made below ever reaches it.
    registry.register(name, frozenset({"IdempotencyTestNothing"}), CountingFailingHandler)
    CountingFailingHandler.calls = 0
    event = StoredEvent.objects.filter(aggregate_id=create_order(customer).id).get()
    delivery = ParkedEvent.objects.create(
        subscription=name,
        event=event,
        bucket=event.bucket,
        partition_key=event.partition_key,
        position=event.position or event.sequence,
        status=ParkedStatus.DEAD,
        next_attempt_at=event.occurred_at,
        created_at=event.occurred_at,
        updated_at=event.occurred_at,
        dead_at=event.occurred_at,
    )
    yield delivery
    registry.unregister(name)


def test_a_retried_dead_letter_retry_with_the_same_key_runs_the_handler_once(
    staff_client: APIClient, dead_delivery: Any
) -> None:
    url = f"/api/v1/events/dead-letters/{dead_delivery.id}/retry/"
    first = send(staff_client, url, {}, key="retry-1")
    assert first.status_code == 200, first.content
    assert first.json()["outcome"] == "dead"
    again = send(staff_client, url, {}, key="retry-1")
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert CountingFailingHandler.calls == 1
    dead_delivery.refresh_from_db()
    assert dead_delivery.attempts == 1

    assert_problem(
        send(staff_client, url, {"force": True}, key="retry-1"), 422, "idempotency_key_reused"
    )
    # A new key is a new retry.
    send(staff_client, url, {}, key="retry-2")
    assert CountingFailingHandler.calls == 2


# --- documentation ---------------------------------------------------------------------------


IDEMPOTENT_OPERATIONS = [
    ("/api/v1/orders/", "orders_create"),
    ("/api/v1/orders/{order_id}/cancel/", "orders_cancel"),
    ("/api/v1/orders/{order_id}/process/", "orders_process"),
    ("/api/v1/events/dead-letters/{delivery_id}/retry/", "dead_letters_retry"),
]


@pytest.mark.parametrize(("url", "operation_id"), IDEMPOTENT_OPERATIONS)
def test_the_openapi_schema_documents_the_key_and_its_answers(
    anon_client: APIClient, url: str, operation_id: str
) -> None:
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][url]["post"]
    assert operation["operationId"] == operation_id
    (key,) = [p for p in operation["parameters"] if p["name"] == "Idempotency-Key"]
    assert key["in"] == "header"
    assert key["schema"]["maxLength"] == 255
    responses = operation["responses"]
    assert "idempotency_key_in_progress" in responses["409"]["description"]
    assert "idempotency_key_reused" in responses["422"]["description"]
    assert "application/problem+json" in responses["422"]["content"]
    success = next(code for code in responses if code.startswith("2"))
    assert "Idempotent-Replayed" in responses[success]["headers"]


def test_reads_do_not_document_idempotency(anon_client: APIClient) -> None:
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    listing = schema["paths"]["/api/v1/orders/"]["get"]
    assert "Idempotency-Key" not in [p["name"] for p in listing.get("parameters", [])]
    assert "422" not in listing["responses"]
