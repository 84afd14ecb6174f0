"""v1 changes only by adding: what a v1 answer once carried it still carries.

A field renamed since v1 existed stays beside its new name with the same value, marked
``deprecated`` in the OpenAPI schema: the statistics' ``as_of_sequence`` (now
``as_of_position``), the event stream's ``has_more`` (now ``next``). The list's rows carry
``allowed_transitions`` again, as they did before they were read from the summary projection.
The sections nested in an order have the shape their schema components declare.
"""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.api.v1.read_views import OrderStatisticsSerializer
from apps.orders.commands import Actor
from apps.payments.api.v1.serializers import (
    PaymentSectionOutputSerializer,
    RefundOutputSerializer,
)
from apps.payments.commands import RecordPaymentResult
from apps.payments.services import PaymentService
from apps.shipping.api.v1.serializers import ShipmentSectionOutputSerializer

# Committed: on PostgreSQL an event's log position is given as its transaction commits.
pytestmark = pytest.mark.django_db(transaction=True)

ORDER = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


@pytest.fixture
def schema(anon_client: APIClient) -> dict[str, Any]:
    response = anon_client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return dict(response.json())


def component(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = schema["components"]["schemas"][name]
    return found


def delivered_and_refunded_order(customer_client: APIClient, staff_client: APIClient) -> str:
    order = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    paid = ok(customer_client.post(f"/api/v1/orders/{order}/pay/"), 202)
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"], succeeded=True, actor=Actor.system()
        )
    )
    # The shipping app's reaction to the payment started processing; staff ship and deliver.
    for step in ("ship", "deliver"):
        ok(staff_client.post(f"/api/v1/orders/{order}/{step}/"))
    ok(
        staff_client.post(f"/api/v1/orders/{order}/refunds/", {"amount": "2.00"}, format="json"),
        201,
    )
    return str(order)


def test_the_statistics_carry_the_old_name_of_their_position_with_the_same_value(
    customer_client: APIClient, staff_client: APIClient, schema: dict[str, Any]
) -> None:
    ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)
    for cached in (False, True):
        stats = ok(staff_client.get("/api/v1/orders/stats/"))
        assert stats["cached"] is cached
        assert stats["as_of_sequence"] == stats["as_of_position"]
        head = StoredEvent.objects.order_by("-position").values_list("position", flat=True)[0]
        assert stats["as_of_position"] == head
        assert set(stats) == set(OrderStatisticsSerializer().fields)
    properties = component(schema, "OrderStatistics")["properties"]
    assert properties["as_of_sequence"].get("deprecated") is True
    assert "deprecated" not in properties["as_of_position"]


def test_the_event_stream_still_says_whether_there_is_more(
    customer_client: APIClient, staff_client: APIClient, schema: dict[str, Any]
) -> None:
    for _ in range(2):
        ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)
    first = ok(staff_client.get("/api/v1/events/?page_size=1"))
    assert first["next"] is not None
    assert first["has_more"] is True
    last = ok(staff_client.get(f"/api/v1/events/?after={first['next_after']}&page_size=1000"))
    assert last["next"] is None
    assert last["has_more"] is False
    properties = component(schema, "EventStreamPage")["properties"]
    assert properties["has_more"].get("deprecated") is True
    assert "deprecated" not in properties["next"]


def test_list_rows_carry_the_allowed_transitions_the_detail_shows(
    customer_client: APIClient, staff_client: APIClient
) -> None:
    pending = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    delivered = delivered_and_refunded_order(customer_client, staff_client)
    rows = {row["id"]: row for row in ok(customer_client.get("/api/v1/orders/"))["results"]}
    for order in (pending, delivered):
        detail = ok(customer_client.get(f"/api/v1/orders/{order}/"))
        assert rows[order]["allowed_transitions"] == detail["allowed_transitions"]
    assert rows[pending]["allowed_transitions"] == ["CANCELLED", "FAILED", "PAID"]
    assert rows[delivered]["allowed_transitions"] == []


def test_the_nested_sections_have_the_fields_their_components_declare(
    customer_client: APIClient, staff_client: APIClient, schema: dict[str, Any]
) -> None:
    order = delivered_and_refunded_order(customer_client, staff_client)
    detail = ok(customer_client.get(f"/api/v1/orders/{order}/"))
    assert set(detail["payment"]) == set(PaymentSectionOutputSerializer().fields)
    assert set(detail["shipment"]) == set(ShipmentSectionOutputSerializer().fields)
    (refund,) = detail["refunds"]
    assert set(refund) == set(RefundOutputSerializer().fields)
    properties = component(schema, "OrderOutput")["properties"]
    assert properties["payment"]["allOf"] == [{"$ref": "#/components/schemas/PaymentSectionOutput"}]
    assert properties["payment"]["nullable"] is True
    assert properties["shipment"]["allOf"] == [
        {"$ref": "#/components/schemas/ShipmentSectionOutput"}
    ]
    assert properties["refunds"]["items"] == {"$ref": "#/components/schemas/RefundOutput"}
    for name in ("PaymentSectionOutput", "ShipmentSectionOutput", "RefundOutput"):
        assert "additionalProperties" not in component(schema, name)
