"""Identifiers from outside follow one rule whichever way they come in (``shared.text``): the sku
of an order line and of a refund line, the carrier and tracking number of a ship request.

They are shown as free text is (console, logs, e-mails): printable, trimmed, with at least one
visible character, words separated by single spaces. A refusal is a 400 problem naming the field
and writes nothing. (Webhook identifiers: ``apps/webhooks/tests/test_strict_bodies.py``.)
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.orders.commands import Actor
from apps.orders.models import Order, OrderItem
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.payments.tests.helpers import paid_order
from apps.shipping.commands import CreateShipment
from apps.shipping.models import Shipment
from apps.shipping.services import ShippingService
from shared.text import PRINTABLE_IDENTIFIER_PATTERN
from tests.support.rows import rows_written

pytestmark = pytest.mark.django_db

NOT_AN_IDENTIFIER = {
    "ansi-escape": "\u001b[31mSKU",
    "bidi-override": "SKU\u202e1",
    "newline-inside": "SKU\n1",
    "two-spaces": "SKU  1",
    "whitespace-only": "   ",
    "hangul-filler": "\u3164",
}
# Every character of the rule is tested in shared/tests/test_text.py; these show each field uses it.


Send = Callable[[str], Any]


def order_line_sku(staff_client: APIClient, customer_client: APIClient, customer: Any) -> Send:
    def send(text: str) -> Any:
        line = {"sku": text, "name": "A book", "quantity": 1, "unit_price": "1.00"}
        body = {"currency": "EUR", "items": [line]}
        return customer_client.post("/api/v1/orders/", body, format="json")

    return send


def refund_line_sku(staff_client: APIClient, customer_client: APIClient, customer: Any) -> Send:
    url = f"/api/v1/orders/{paid_order(customer)[0].id}/refunds/"
    return lambda text: staff_client.post(
        url, {"lines": [{"sku": text, "quantity": 1}]}, format="json"
    )


def processing_order(customer: Any) -> Order:
    """An order whose shipment waits for the ship command."""
    order = move_to(create_order(customer), OrderState.PAID)
    ShippingService().create_shipment(CreateShipment(order_id=order.id, actor=Actor.system()))
    return Order.objects.get(id=order.id)


def ship_field(field: str) -> Callable[[APIClient, APIClient, Any], Send]:
    def way_in(staff_client: APIClient, customer_client: APIClient, customer: Any) -> Send:
        order = processing_order(customer)
        url = f"/api/v1/orders/{order.id}/ship/"
        return lambda text: staff_client.post(url, {field: text}, format="json")

    return way_in


WAYS_IN = {
    "sku": order_line_sku,
    "refund-line-sku": refund_line_sku,
    "carrier": ship_field("carrier"),
    "tracking_number": ship_field("tracking_number"),
}
FIELD = {"sku": "sku", "refund-line-sku": "sku", "carrier": "carrier"}


@pytest.mark.parametrize("way_in", WAYS_IN, ids=WAYS_IN.keys())
@pytest.mark.parametrize("text", NOT_AN_IDENTIFIER.values(), ids=NOT_AN_IDENTIFIER.keys())
def test_an_identifier_that_is_not_printable_is_400_naming_its_field_and_writes_nothing(
    staff_client: APIClient, customer_client: APIClient, customer: Any, way_in: str, text: str
) -> None:
    send = WAYS_IN[way_in](staff_client, customer_client, customer)
    before = rows_written()
    shipments = list(Shipment.objects.values_list("carrier", "tracking_number", "status"))
    response = send(text)
    assert response.status_code == 400, response.content
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert f'"{FIELD.get(way_in, way_in)}"' in json.dumps(problem["errors"])
    assert rows_written() == before
    assert list(Shipment.objects.values_list("carrier", "tracking_number", "status")) == shipments


def test_a_sku_is_stored_trimmed(customer_client: APIClient) -> None:
    line = {"sku": " BOOK 1 ", "name": "A book", "quantity": 1, "unit_price": "1.00"}
    response = customer_client.post(
        "/api/v1/orders/", {"currency": "EUR", "items": [line]}, format="json"
    )
    assert response.status_code == 201, response.content
    assert OrderItem.objects.values_list("sku", flat=True).get() == "BOOK 1"


def test_a_tracking_number_in_groups_is_shipped_and_stored_trimmed(
    staff_client: APIClient, customer: Any
) -> None:
    order = processing_order(customer)
    response = staff_client.post(
        f"/api/v1/orders/{order.id}/ship/",
        {"tracking_number": " 1Z 999 AA1 0123456784\n"},
        format="json",
    )
    assert response.status_code == 200, response.content
    shipment = Shipment.objects.get(order_id=order.id)
    assert shipment.tracking_number == "1Z 999 AA1 0123456784"


def test_the_schema_states_the_identifier_rule_as_a_pattern(customer_client: APIClient) -> None:
    schema = customer_client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for component, field in [
        ("OrderLineInputRequest", "sku"),
        ("RefundLineInputRequest", "sku"),
        ("ShipOrderInputRequest", "carrier"),
        ("ShipOrderInputRequest", "tracking_number"),
    ]:
        declared = components[component]["properties"][field]
        assert declared["type"] == "string", component
        assert declared["pattern"] == PRINTABLE_IDENTIFIER_PATTERN, component
        assert declared["minLength"] == 1, component
        assert "oneOf" not in declared, component
