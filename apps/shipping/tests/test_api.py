"""The staff ``ship`` and ``deliver`` endpoints and the shipment section of the order."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.shipping.commands import CreateShipment
from apps.shipping.tests.helpers import SYSTEM, paid_order, shipment_of, shipping, state_of

pytestmark = pytest.mark.django_db

UNKNOWN = "8a1c4a57-8f31-4b3a-9a43-bb6f0f1e8d11"


def problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def test_staff_ship_with_the_shipments_carrier_and_deliver(
    staff_client: APIClient, customer_client: APIClient, customer: Any
) -> None:
    order = paid_order(customer, shipping_method="express")
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    detail = customer_client.get(f"/api/v1/orders/{order.id}/").json()
    assert detail["shipment"]["status"] == "requested"
    assert (detail["shipment"]["carrier"], detail["shipment"]["rate"]) == ("UPS", "14.90")

    shipped = staff_client.post(
        f"/api/v1/orders/{order.id}/ship/", HTTP_IDEMPOTENCY_KEY="ship-1", HTTP_IF_MATCH='"3"'
    )
    assert shipped.status_code == 200, shipped.content
    body = shipped.json()
    assert body["state"] == "SHIPPED"
    assert body["shipment"]["status"] == "shipped"
    tracking = shipment_of(order).tracking_number
    assert tracking
    assert body["shipment"]["tracking_number"] == tracking
    event = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderShipped")
    assert (event.payload["carrier"], event.payload["tracking_number"]) == ("UPS", tracking)
    assert event.idempotency_key == "ship-1"

    delivered = staff_client.post(f"/api/v1/orders/{order.id}/deliver/")
    assert delivered.status_code == 200
    assert delivered.json()["state"] == "DELIVERED"
    assert delivered.json()["shipment"]["status"] == "delivered"


def test_a_stale_if_match_on_ship_is_409_and_ships_nothing(
    staff_client: APIClient, customer: Any
) -> None:
    order = paid_order(customer)
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    problem(
        staff_client.post(f"/api/v1/orders/{order.id}/ship/", HTTP_IF_MATCH='"2"'),
        409,
        "concurrency_conflict",
    )
    assert shipment_of(order).status == "requested"
    assert state_of(order) == "PROCESSING"


def test_shipping_is_for_staff_and_errors_are_problem_documents(
    staff_client: APIClient, customer_client: APIClient, customer: Any
) -> None:
    order = move_to(create_order(customer), OrderState.PENDING)
    problem(customer_client.post(f"/api/v1/orders/{order.id}/ship/"), 403, "permission_denied")
    problem(staff_client.post(f"/api/v1/orders/{UNKNOWN}/ship/"), 404, "order_not_found")
    problem(staff_client.post(f"/api/v1/orders/{UNKNOWN}/deliver/"), 404, "order_not_found")
    body = problem(
        staff_client.post(f"/api/v1/orders/{order.id}/ship/"), 409, "invalid_state_transition"
    )
    assert body["current_state"] == "PENDING"
    problem(
        staff_client.post(
            f"/api/v1/orders/{order.id}/ship/", {"tracking_number": "x" * 65}, format="json"
        ),
        400,
        "validation_error",
    )


def test_a_processing_order_whose_handler_is_behind_still_ships(
    staff_client: APIClient, customer: Any
) -> None:
    # Staff processed the order before the OrderPaid handler ran: ship requests the shipment.
    order = move_to(create_order(customer), OrderState.PROCESSING)
    shipped = staff_client.post(
        f"/api/v1/orders/{order.id}/ship/", {"tracking_number": "T-1"}, format="json"
    )
    assert shipped.status_code == 200, shipped.content
    assert shipment_of(order).tracking_number == "T-1"
    assert shipped.json()["shipment"]["carrier"] == "DHL"


def test_the_schema_documents_the_moved_endpoints(anon_client: APIClient) -> None:
    paths = anon_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for action in ("pay", "ship", "deliver"):
        assert f"/api/v1/orders/{{order_id}}/{action}/" in paths
    assert "202" in paths["/api/v1/orders/{order_id}/pay/"]["post"]["responses"]
