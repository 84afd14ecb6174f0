"""Free text follows one rule whichever way it comes in (``shared.text``): item names, cancel and
refund reasons, outbound endpoint descriptions, the console's cancel form.

Printable, one line, trimmed, at least one visible character: a refusal is a 400 problem naming
the field (on the console, the same problem on the order's page) and writes nothing.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.models import Order, OrderItem
from apps.orders.tests.factories import create_order
from apps.outbound.models import WebhookEndpoint
from apps.payments.tests.helpers import paid_order
from shared import clock
from shared.text import PRINTABLE_TEXT_PATTERN
from tests.support.rows import rows_written

pytestmark = pytest.mark.django_db

UNPRINTABLE = {
    "bell": "ding\u0007",
    "ansi-escape": "\u001b[31mred",
    "bidi-override": "invoice\u202efdp.exe",
    "bidi-isolate": "\u2067hidden\u2069",
    "zero-width-space": "a\u200bb",
    "tag-characters": "ok\U000e0041",
    "newline-inside": "two\nlines",
    "line-separator": "two\u2028lines",
    "whitespace-only": " \t ",
    "nothing-visible": "\u3164 \u0301",
}


def assert_refused(response: Any, field: str) -> None:
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "validation_error"
    assert f'"{field}"' in json.dumps(problem["errors"])


# --- each way in: (the client to send with, the request), prepared before counting rows ---------

Send = Callable[[str], Any]


def item_name(clients: dict[str, APIClient], customer: Any) -> tuple[str, Send]:
    def send(text: str) -> Any:
        line = {"sku": "A", "name": text, "quantity": 1, "unit_price": "1.00"}
        body = {"currency": "EUR", "items": [line]}
        return clients["customer"].post("/api/v1/orders/", body, format="json")

    return "name", send


def cancel_reason(clients: dict[str, APIClient], customer: Any) -> tuple[str, Send]:
    url = f"/api/v1/orders/{create_order(customer).id}/cancel/"
    return "reason", lambda text: clients["customer"].post(url, {"reason": text}, format="json")


def refund_reason(clients: dict[str, APIClient], customer: Any) -> tuple[str, Send]:
    url = f"/api/v1/orders/{paid_order(customer)[0].id}/refunds/"
    body = {"amount": "1.00"}
    return "reason", lambda text: clients["staff"].post(
        url, {**body, "reason": text}, format="json"
    )


def new_endpoint(clients: dict[str, APIClient], customer: Any) -> tuple[str, Send]:
    body = {"url": "http://127.0.0.1:9/oms"}  # allowed by ``clients``; never called
    return "description", lambda text: clients["staff"].post(
        "/api/v1/webhook-endpoints/", {**body, "description": text}, format="json"
    )


def changed_endpoint(clients: dict[str, APIClient], customer: Any) -> tuple[str, Send]:
    now = clock.now()
    endpoint = WebhookEndpoint.objects.create(
        url="https://hooks.example.com/oms",
        description="the shop's ERP",
        secret="whsec_dGVzdA==",
        created_at=now,
        updated_at=now,
    )
    url = f"/api/v1/webhook-endpoints/{endpoint.id}/"
    return "description", lambda text: clients["staff"].patch(
        url, {"description": text}, format="json"
    )


WAYS_IN = {
    "item-name": item_name,
    "cancel-reason": cancel_reason,
    "refund-reason": refund_reason,
    "new-endpoint-description": new_endpoint,
    "changed-endpoint-description": changed_endpoint,
}


@pytest.fixture
def clients(
    customer_client: APIClient, staff_client: APIClient, settings: Any
) -> dict[str, APIClient]:
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    return {"customer": customer_client, "staff": staff_client}


@pytest.mark.parametrize("way_in", WAYS_IN.values(), ids=WAYS_IN.keys())
@pytest.mark.parametrize("text", UNPRINTABLE.values(), ids=UNPRINTABLE.keys())
def test_text_that_is_not_printable_is_400_naming_its_field_and_writes_nothing(
    clients: dict[str, APIClient], customer: Any, way_in: Any, text: str
) -> None:
    field, send = way_in(clients, customer)
    before = rows_written()
    descriptions = list(WebhookEndpoint.objects.values_list("description", flat=True))
    assert_refused(send(text), field)
    assert rows_written() == before
    assert list(WebhookEndpoint.objects.values_list("description", flat=True)) == descriptions
    assert not Order.objects.filter(state="CANCELLED").exists()


def stored_text(field: str) -> str:
    """The one text the accepted request stored in ``field``."""
    if field == "name":
        return str(OrderItem.objects.values_list("name", flat=True).get())
    if field == "description":
        return str(WebhookEndpoint.objects.values_list("description", flat=True).get())
    events = StoredEvent.objects.filter(event_type__in=["OrderCancelled", "RefundRequested"])
    return str(events.values_list("payload", flat=True).get()["reason"])


@pytest.mark.parametrize("way_in", WAYS_IN.values(), ids=WAYS_IN.keys())
@pytest.mark.parametrize(
    "text",
    [
        "  the shop\u2019s words\t",
        "\u06a9\u062a\u0627\u0628 \u0645\u06cc\u200c\u062e\u0648\u0627\u0646\u0645",
        "family pack \U0001f468\u200d\U0001f469\u200d\U0001f467",
    ],
    ids=["padded", "persian-with-zwnj", "emoji-with-zwj"],
)
def test_printable_text_in_any_script_is_accepted_and_stored_trimmed(
    clients: dict[str, APIClient], customer: Any, way_in: Any, text: str
) -> None:
    field, send = way_in(clients, customer)
    response = send(text)
    assert response.status_code in (200, 201), response.content
    assert stored_text(field) == text.strip()


def test_an_empty_reason_still_means_none_where_a_reason_is_optional(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    response = customer_client.post(
        f"/api/v1/orders/{order.id}/cancel/", {"reason": ""}, format="json"
    )
    assert response.status_code == 200, response.content
    assert stored_text("reason") == ""


def test_the_schema_states_the_rule_as_a_pattern(customer_client: APIClient) -> None:
    schema = customer_client.get("/api/schema/", {"format": "json"}).json()
    components = schema["components"]["schemas"]
    for component, field in [
        ("OrderLineInputRequest", "name"),
        ("CancelOrderInputRequest", "reason"),
        ("RefundByAmountInputRequest", "reason"),
        ("EndpointInputRequest", "description"),
        ("PatchedEndpointChangeInputRequest", "description"),
    ]:
        declared = components[component]["properties"][field]
        text = {"type": "string", "pattern": PRINTABLE_TEXT_PATTERN, "minLength": 1}
        if component == "OrderLineInputRequest":
            # A name must be given: the text itself, no other branch.
            assert declared == {**text, "maxLength": 200}
        else:
            # Where blank is allowed, the empty string is the other branch of a oneOf.
            printable, empty = declared.pop("oneOf")
            printable.pop("default", None)
            assert printable == {**text, "maxLength": 500}, component
            assert empty == {"type": "string", "maxLength": 0}, component
            assert not {"pattern", "minLength"} & set(declared), component


# --- the console's cancel form ------------------------------------------------------------------


@pytest.fixture
def operator(staff: Any) -> Client:
    client = Client()
    client.force_login(staff)
    return client


@pytest.mark.parametrize(
    "reason",
    ["\u202eevil", "\u001b[31mred", "   ", "x" * 501],
    ids=["bidi-override", "ansi-escape", "whitespace-only", "too-long"],
)
def test_the_console_refuses_a_cancel_reason_the_api_refuses(
    operator: Client, customer: Any, reason: str
) -> None:
    order = create_order(customer)
    before = rows_written()
    response = operator.post(
        f"/console/orders/{order.id}/cancel/", {"version": "1", "reason": reason}
    )
    assert response.status_code == 302
    page = operator.get(f"/console/orders/{order.id}/").content.decode()
    assert "400 validation_error" in page
    assert "reason:" in page
    assert rows_written() == before
    assert Order.objects.get(id=order.id).state == "PENDING"


def test_the_console_stores_a_cancel_reason_trimmed(operator: Client, customer: Any) -> None:
    order = create_order(customer)
    operator.post(
        f"/console/orders/{order.id}/cancel/", {"version": "1", "reason": "  duplicate order "}
    )
    assert Order.objects.get(id=order.id).state == "CANCELLED"
    assert stored_text("reason") == "duplicate order"
