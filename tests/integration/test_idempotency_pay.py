"""Idempotency keys on ``POST /api/v1/orders/{id}/pay/`` (the payments app's view).

Paying is idempotent in the service too (a second submit returns the payment the provider already
has), so these tests tell a replay from a re-run by the ``Idempotent-Replayed`` header and check
that a replay writes nothing at all.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from apps.events.models import ParkedEvent, StoredEvent
from apps.idempotency.models import IdempotencyRecord
from apps.orders.tests.factories import create_order
from shared.clock import frozen_clock

Payment = pytest.importorskip(
    "apps.payments.models", reason="the payments app (and its pay view) is not installed"
).Payment

pytestmark = pytest.mark.django_db


def written() -> tuple[int, int, int, int]:
    return (
        Payment.objects.count(),
        StoredEvent.objects.count(),
        ParkedEvent.objects.count(),
        IdempotencyRecord.objects.count(),
    )


def pay(client: APIClient, order: Any, body: Any = None, key: str | None = None) -> Any:
    headers: dict[str, Any] = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(f"/api/v1/orders/{order.id}/pay/", body or {}, format="json", **headers)


def test_a_retried_payment_with_the_same_key_is_replayed(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    first = pay(customer_client, order, key="pay-1")
    assert first.status_code == 202, first.content
    after_first = written()

    again = pay(customer_client, order, key="pay-1")
    body_form = pay(customer_client, order, {"idempotency_key": "pay-1"})
    for replay in (again, body_form):
        assert replay.status_code == 202
        assert replay["Idempotent-Replayed"] == "true"
        assert replay.json() == first.json()
    assert written() == after_first
    assert Payment.objects.filter(order_id=order.id).count() == 1


def test_a_different_payment_request_with_the_same_key_is_422_and_writes_nothing(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    assert pay(customer_client, order, key="pay-1").status_code == 202
    before = written()
    response = pay(customer_client, order, {"note": "second try"}, key="pay-1")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert written() == before


def test_a_malformed_payment_request_stores_nothing_and_the_retry_with_the_key_pays(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    before = written()
    malformed = customer_client.post(
        f"/api/v1/orders/{order.id}/pay/",
        "{not json",
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="pay-1",
    )
    assert malformed.status_code == 400
    assert written() == before
    retried = pay(customer_client, order, key="pay-1")
    assert retried.status_code == 202
    assert not retried.has_header("Idempotent-Replayed")
    assert Payment.objects.filter(order_id=order.id).count() == 1


def test_the_same_payment_key_from_two_customers_pays_two_orders(
    customer_client: APIClient, other_client: APIClient, customer: Any, other_customer: Any
) -> None:
    mine, theirs = create_order(customer), create_order(other_customer)
    assert pay(customer_client, mine, key="shared").status_code == 202
    response = pay(other_client, theirs, key="shared")
    assert response.status_code == 202
    assert not response.has_header("Idempotent-Replayed")
    assert Payment.objects.count() == 2


def test_another_callers_payment_key_on_the_same_order_is_not_a_replay(
    customer_client: APIClient, staff_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    first = pay(customer_client, order, key="shared")
    response = pay(staff_client, order, key="shared")
    assert response.status_code == 202
    assert not response.has_header("Idempotent-Replayed")  # the service ran, and changed nothing
    assert response.json()["payment_id"] == first.json()["payment_id"]


def test_the_payment_key_on_another_endpoint_is_independent(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    assert pay(customer_client, order, key="shared").status_code == 202
    cancelled = customer_client.post(
        f"/api/v1/orders/{order.id}/cancel/", {}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert cancelled.status_code == 200, cancelled.content
    assert not cancelled.has_header("Idempotent-Replayed")
    assert cancelled.json()["state"] == "CANCELLED"


def test_an_expired_payment_key_is_treated_as_new(
    customer_client: APIClient, customer: Any
) -> None:
    ttl = timedelta(hours=settings.OMS_IDEMPOTENCY_KEY_TTL_HOURS)
    with frozen_clock() as clock:
        order = create_order(customer)
        first = pay(customer_client, order, key="pay-1")
        clock.advance(ttl - timedelta(seconds=1))
        assert pay(customer_client, order, key="pay-1")["Idempotent-Replayed"] == "true"
        clock.advance(timedelta(seconds=1))
        before = written()
        again = pay(customer_client, order, key="pay-1")
        assert again.status_code == 202
        assert not again.has_header("Idempotent-Replayed")
        assert again.json()["payment_id"] == first.json()["payment_id"]
        # The expired record was replaced by a new one; the payment itself did not change.
        assert written() == before


def test_the_pay_operation_documents_the_key_and_its_answers(anon_client: APIClient) -> None:
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/orders/{order_id}/pay/"]["post"]
    assert "Idempotency-Key" in [p["name"] for p in operation["parameters"]]
    assert "idempotency_key_reused" in operation["responses"]["422"]["description"]
    assert "Idempotent-Replayed" in operation["responses"]["202"]["headers"]
