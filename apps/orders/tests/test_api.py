"""The v1 order API, end to end through HTTP, token auth and the real database."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.models import Order, OrderItem
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to

pytestmark = pytest.mark.django_db

ORDER_BODY: dict[str, Any] = {
    "currency": "EUR",
    "items": [
        {"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"},
        {"sku": "PEN-1", "name": "A pen", "quantity": 1, "unit_price": "1.99"},
    ],
}


def counts() -> tuple[int, int, int]:
    return Order.objects.count(), OrderItem.objects.count(), StoredEvent.objects.count()


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == status
    assert body["code"] == code
    assert body["type"].startswith("https://")
    assert body["title"]
    assert body["detail"]
    return body


# --- create ----------------------------------------------------------------------------------


def test_create_returns_201_with_the_computed_total(
    customer_client: APIClient, customer: Any
) -> None:
    response = customer_client.post("/api/v1/orders/", ORDER_BODY, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["state"] == "PENDING"
    # 2 x 12.50 + 1.99; standard shipping of 3 units: 4.90 + 2 x 0.50.
    assert (body["subtotal"], body["shipping_total"], body["total"]) == ("26.99", "5.90", "32.89")
    assert body["refunded_total"] == "0.00"
    assert body["refunds"] == []
    assert body["customer_id"] == customer.pk
    assert body["version"] == 1
    assert body["allowed_transitions"] == ["CANCELLED", "FAILED", "PAID"]
    assert [i["line_total"] for i in body["items"]] == ["25.00", "1.99"]
    assert response["Location"] == f"/api/v1/orders/{body['id']}/"
    assert response["ETag"] == '"1"'
    event = StoredEvent.objects.get(aggregate_id=body["id"])
    assert event.event_type == "OrderCreated"


def test_fields_the_server_does_not_take_are_400_naming_them(customer_client: APIClient) -> None:
    # A client that believes it sets the total, the state or the customer must hear it does not.
    before = counts()
    body = {**ORDER_BODY, "total": "0.01", "state": "PAID", "customer_id": 7}
    response = customer_client.post("/api/v1/orders/", body, format="json")
    problem = assert_problem(response, 400, "validation_error")
    assert set(problem["errors"]) == {"total", "state", "customer_id"}
    line = {**ORDER_BODY["items"][0], "discount": "1.00"}
    nested = customer_client.post("/api/v1/orders/", {**ORDER_BODY, "items": [line]}, format="json")
    assert "discount" in str(assert_problem(nested, 400, "validation_error")["errors"]["items"])
    assert counts() == before


def test_a_json_number_as_money_is_400_and_writes_nothing(customer_client: APIClient) -> None:
    # Money travels as a decimal string: most JSON clients made 0.1 a binary float before sending.
    body = (
        '{"currency": "USD", "items": [{"sku": "A", "name": "A", "quantity": 3,'
        ' "unit_price": 0.1}]}'
    )
    before = counts()
    response = customer_client.post("/api/v1/orders/", body, content_type="application/json")
    problem = assert_problem(response, 400, "validation_error")
    assert "not JSON numbers" in str(problem["errors"]["items"])
    assert counts() == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**ORDER_BODY, "items": []}, "items"),
        ({**ORDER_BODY, "currency": "XXX"}, "currency"),
        ({"items": ORDER_BODY["items"]}, "currency"),
        ({**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "quantity": 0}]}, "items"),
        ({**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "quantity": -3}]}, "items"),
        ({**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "unit_price": "-1"}]}, "items"),
        ({**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "unit_price": "abc"}]}, "items"),
        ({**ORDER_BODY, "items": [{**ORDER_BODY["items"][0], "unit_price": "1e400"}]}, "items"),
        ({**ORDER_BODY, "items": [{"sku": "A", "quantity": 1, "unit_price": "1"}]}, "items"),
        ({**ORDER_BODY, "items": "nope"}, "items"),
        ({**ORDER_BODY, "payment_method": "bitcoin"}, "payment_method"),
        ({**ORDER_BODY, "shipping_method": "teleport"}, "shipping_method"),
    ],
)
def test_invalid_create_bodies_are_400_and_write_nothing(
    customer_client: APIClient, body: dict[str, Any], field: str
) -> None:
    before = counts()
    response = customer_client.post("/api/v1/orders/", body, format="json")
    problem = assert_problem(response, 400, "validation_error")
    assert field in problem["errors"]
    assert counts() == before


def test_more_decimals_than_the_currency_has_is_422(customer_client: APIClient) -> None:
    body = {**ORDER_BODY, "currency": "JPY"}  # JPY has no minor unit
    before = counts()
    problem = assert_problem(
        customer_client.post("/api/v1/orders/", body, format="json"), 422, "invalid_amount"
    )
    assert "JPY" in problem["detail"]
    assert counts() == before


@pytest.mark.parametrize(
    "raw",
    [
        "{not json",
        '{"currency": NaN}',
        "[]",
        '"text"',
        "",
        '{"currency": "EUR", "items": [{"sku": "\\udc00", "name": "A", "quantity": 1,'
        ' "unit_price": "1"}]}',
    ],
)
def test_malformed_json_is_400_problem(customer_client: APIClient, raw: str) -> None:
    before = counts()
    response = customer_client.post("/api/v1/orders/", raw, content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert counts() == before


def test_anonymous_requests_are_401(anon_client: APIClient, customer: Any) -> None:
    order = create_order(customer)
    assert_problem(
        anon_client.post("/api/v1/orders/", ORDER_BODY, format="json"), 401, "not_authenticated"
    )
    assert_problem(anon_client.get("/api/v1/orders/"), 401, "not_authenticated")
    assert_problem(anon_client.get(f"/api/v1/orders/{order.id}/"), 401, "not_authenticated")
    assert_problem(anon_client.post(f"/api/v1/orders/{order.id}/pay/"), 401, "not_authenticated")


def test_a_bad_token_is_401(customer: Any) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token not-a-real-token")
    assert_problem(client.get("/api/v1/orders/"), 401, "authentication_failed")


# --- read ------------------------------------------------------------------------------------


def test_another_customers_order_is_404_for_every_action(
    customer_client: APIClient, other_customer: Any
) -> None:
    theirs = create_order(other_customer)
    assert_problem(customer_client.get(f"/api/v1/orders/{theirs.id}/"), 404, "order_not_found")
    for action in ("pay", "cancel", "events", "history"):
        method = customer_client.get if action in ("events", "history") else customer_client.post
        assert_problem(method(f"/api/v1/orders/{theirs.id}/{action}/"), 404, "order_not_found")
    assert Order.objects.get(id=theirs.id).state == "PENDING"


def test_unknown_order_and_malformed_id_are_404(customer_client: APIClient) -> None:
    assert_problem(
        customer_client.get("/api/v1/orders/8a1c4a57-8f31-4b3a-9a43-bb6f0f1e8d11/"),
        404,
        "order_not_found",
    )
    response = customer_client.get("/api/v1/orders/not-a-uuid/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"


# --- commands --------------------------------------------------------------------------------


def test_cancel_a_paid_order_through_the_api(customer_client: APIClient, customer: Any) -> None:
    # Paying through the API (202, answered later by the provider) is tested with payments.
    order = move_to(create_order(customer), OrderState.PAID)
    cancelled = customer_client.post(
        f"/api/v1/orders/{order.id}/cancel/", {"reason": "too slow"}, format="json"
    )
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "CANCELLED"
    events = customer_client.get(f"/api/v1/orders/{order.id}/events/").json()["results"]
    assert [e["event_type"] for e in events] == ["OrderCreated", "OrderPaid", "OrderCancelled"]
    assert [e["version"] for e in events] == [1, 2, 3]
    assert events[-1]["payload"]["reason"] == "too slow"
    assert events[-1]["metadata"]["user_id"] == customer.pk
    # The history endpoint reads a projection fed after commit: see test_read_api.py.


def test_an_invalid_transition_is_409_with_the_allowed_ones(
    customer_client: APIClient, customer: Any
) -> None:
    order = move_to(create_order(customer), OrderState.CANCELLED)
    before = counts()
    problem = assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/pay/"), 409, "invalid_state_transition"
    )
    assert problem["current_state"] == "CANCELLED"
    assert problem["allowed_transitions"] == []
    assert counts() == before


def test_paying_twice_submits_once_and_paying_a_paid_order_is_409(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    first = customer_client.post(f"/api/v1/orders/{order.id}/pay/")
    again = customer_client.post(f"/api/v1/orders/{order.id}/pay/")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json()["provider_reference"] == first.json()["provider_reference"]
    assert StoredEvent.objects.filter(event_type="PaymentSubmitted").count() == 1
    order = move_to(order, OrderState.PAID)
    before = counts()
    problem = assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/pay/"), 409, "invalid_state_transition"
    )
    assert problem["allowed_transitions"] == ["CANCELLED", "PROCESSING"]
    assert counts() == before
    assert StoredEvent.objects.filter(aggregate_id=order.id).count() == 2


def test_a_stale_if_match_is_409_conflict(customer_client: APIClient, customer: Any) -> None:
    order = move_to(create_order(customer), OrderState.PAID)
    problem = assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/cancel/", HTTP_IF_MATCH='"1"'),
        409,
        "concurrency_conflict",
    )
    assert problem["current_version"] == 2
    ok = customer_client.post(f"/api/v1/orders/{order.id}/cancel/", HTTP_IF_MATCH='"2"')
    assert ok.status_code == 200
    assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/cancel/", HTTP_IF_MATCH="two"),
        400,
        "validation_error",
    )


def test_shipping_is_for_staff_only(
    customer_client: APIClient, staff_client: APIClient, customer: Any
) -> None:
    order = move_to(create_order(customer), OrderState.PROCESSING)
    body = {"tracking_number": "JD0123"}
    assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/ship/", body, format="json"),
        403,
        "permission_denied",
    )
    # The carrier is the one the shipping method chose (standard: DHL), not the caller's pick.
    problem = assert_problem(
        staff_client.post(f"/api/v1/orders/{order.id}/ship/", {"carrier": "UPS"}, format="json"),
        422,
        "invalid_command",
    )
    assert problem["expected"] == "DHL"
    assert Order.objects.get(id=order.id).state == "PROCESSING"
    shipped = staff_client.post(f"/api/v1/orders/{order.id}/ship/", body, format="json")
    assert shipped.status_code == 200
    assert shipped.json()["state"] == "SHIPPED"
    event = StoredEvent.objects.filter(aggregate_id=order.id).last()
    assert event is not None
    assert (event.payload["carrier"], event.payload["tracking_number"]) == ("DHL", "JD0123")
    assert_problem(
        customer_client.post(f"/api/v1/orders/{order.id}/deliver/"), 403, "permission_denied"
    )
    delivered = staff_client.post(f"/api/v1/orders/{order.id}/deliver/")
    assert delivered.json()["state"] == "DELIVERED"


def test_staff_walk_an_order_from_paid_to_delivered(staff_client: APIClient, customer: Any) -> None:
    order = move_to(create_order(customer), OrderState.PAID)
    assert staff_client.post(f"/api/v1/orders/{order.id}/process/").json()["state"] == "PROCESSING"
    assert_problem(
        staff_client.post(f"/api/v1/orders/{order.id}/deliver/"), 409, "invalid_state_transition"
    )
    # No body: the shipment's carrier issues the tracking number.
    shipped = staff_client.post(f"/api/v1/orders/{order.id}/ship/")
    assert shipped.status_code == 200, shipped.content
    assert shipped.json()["shipment"]["tracking_number"]
    assert_problem(
        staff_client.post(f"/api/v1/orders/{order.id}/ship/"), 409, "invalid_state_transition"
    )
    assert staff_client.post(f"/api/v1/orders/{order.id}/deliver/").json()["state"] == "DELIVERED"


def test_two_different_idempotency_keys_in_one_request_are_400(
    customer_client: APIClient,
) -> None:
    before = counts()
    response = customer_client.post(
        "/api/v1/orders/",
        {**ORDER_BODY, "idempotency_key": "a"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="b",
    )
    assert_problem(response, 400, "validation_error")
    assert counts() == before


def test_the_idempotency_key_travels_in_the_event(customer_client: APIClient) -> None:
    response = customer_client.post(
        "/api/v1/orders/", ORDER_BODY, format="json", HTTP_IDEMPOTENCY_KEY="k-123"
    )
    assert StoredEvent.objects.get(aggregate_id=response.json()["id"]).idempotency_key == "k-123"


def test_the_correlation_id_of_the_request_is_in_the_event_metadata(
    customer_client: APIClient,
) -> None:
    correlation = "5b0e3b7c-3c55-4a8c-9a0d-0c6f3a6e2f10"
    response = customer_client.post(
        "/api/v1/orders/", ORDER_BODY, format="json", HTTP_X_CORRELATION_ID=correlation
    )
    assert response["X-Correlation-ID"] == correlation
    event = StoredEvent.objects.get(aggregate_id=response.json()["id"])
    assert event.metadata["correlation_id"] == correlation


# --- documentation ---------------------------------------------------------------------------


def test_the_openapi_schema_and_swagger_ui_are_served_offline(anon_client: APIClient) -> None:
    schema = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/orders/" in paths
    assert "/api/v1/orders/{order_id}/pay/" in paths
    ui = anon_client.get("/api/docs/")
    assert ui.status_code == 200
    html = ui.content.decode()
    assert "swagger-ui" in html
    assert "cdn.jsdelivr" not in html
    assert "unpkg.com" not in html
