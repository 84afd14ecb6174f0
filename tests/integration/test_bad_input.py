"""No input yields a 500, and every refusal is a problem document that changed nothing.

Each case found by fuzzing or by hand: impossible webhook timestamps, oversized and deeply nested
bodies, lenient money, duplicate keys, foreign charsets, HTML errors under /api/, sloppy paging;
and one rule wherever input comes in: provider webhooks are read like API bodies, and headers
are checked before an idempotent replay (free text has its own module, ``test_free_text.py``).
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from django.test import Client
from django.urls import resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.api.v1.http import OrderCommandView
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.payments.models import Payment
from apps.payments.tests.helpers import submitted_order
from apps.shipping.commands import CreateShipment, ShipOrder
from apps.shipping.services import ShippingService
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import SECRETS, new_webhook_id, payment_succeeded, post_webhook
from shared.strict_json import MAX_DEPTH
from tests.support.rows import rows_written

pytestmark = pytest.mark.django_db

LINE = {"sku": "BOOK-1", "name": "A book", "quantity": 2}


def assert_problem(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert (body["status"], body["code"]) == (status, code)
    assert body["title"]
    assert body["detail"]
    assert body["type"].startswith("https://")
    return body


def post_raw(client: APIClient, raw: str | bytes, **extra: Any) -> Any:
    extra.setdefault("content_type", "application/json")
    return client.post("/api/v1/orders/", raw, HTTP_IDEMPOTENCY_KEY=new_webhook_id(), **extra)


def order_with_price(price: str) -> str:
    """A create body with ``price`` pasted in as raw JSON text."""
    line = '{"sku": "A", "name": "A", "quantity": 1, "unit_price": PRICE}'.replace("PRICE", price)
    return '{"currency": "EUR", "items": [LINE]}'.replace("LINE", line)


# --- point 2: inputs that used to answer 500 ----------------------------------------------------


@pytest.mark.parametrize("timestamp", ["10000000000000", "9" * 19, "9" * 5000])
def test_an_impossible_webhook_timestamp_is_401_and_logged_rejected(
    anon_client: APIClient, timestamp: str
) -> None:
    body = b'{"type": "payment.succeeded", "data": {}}'
    response = anon_client.post(
        "/api/v1/webhooks/payment/",
        data=body,
        content_type="application/json",
        headers={
            "webhook-id": new_webhook_id(),
            "webhook-timestamp": timestamp,
            "webhook-signature": "v1,AAAA",
        },
    )
    assert_problem(response, 401, "webhook_signature_invalid")
    log = WebhookLog.objects.get()
    assert log.outcome == WebhookOutcome.REJECTED
    assert "future" in log.error or "Unix seconds" in log.error
    assert StoredEvent.objects.count() == 0


def test_an_api_body_over_the_size_limit_is_413_and_writes_nothing(
    customer_client: APIClient, settings: Any
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    before = rows_written()
    padding = "x" * 20_000
    raw = order_with_price('"1.00"').replace('"name": "A"', f'"name": "{padding}"')
    body = assert_problem(post_raw(customer_client, raw), 413, "payload_too_large")
    assert body["limit_bytes"] == 10_000
    assert rows_written() == before


@pytest.mark.parametrize(
    "raw",
    [
        "[" * 100_000,
        '{"currency": "EUR", "items": [' + "[" * 5_000 + "]" * 5_000 + "]}",
        '{"currency": "EUR", "items": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
    ],
    ids=["brackets-100k", "5000-deep-in-items", "40-deep-objects"],
)
def test_nesting_beyond_a_sane_depth_is_400_malformed_and_writes_nothing(
    customer_client: APIClient, raw: str
) -> None:
    before = rows_written()
    body = assert_problem(post_raw(customer_client, raw), 400, "malformed_request")
    assert "nested deeper" in body["detail"]
    assert rows_written() == before


# --- point 4: strict money and strict JSON ------------------------------------------------------


@pytest.mark.parametrize(
    "price",
    [
        '"１２"',  # noqa: RUF001 - full-width digits, read as 12 by Python's Decimal
        '"1e2"',
        '"1E-2"',
        "1E-2",
        "0.1e1",
        "12",
        "12.5",
        '" 1.00 "',
        '"1.00 "',
        '"+1.00"',
        '"-1.00"',
        '"1,00"',
        '".5"',
        '"NaN"',
        '"Infinity"',
        '"0x10"',
        '"1_000"',
        '"٣"',  # Arabic-Indic three
        "true",
        "null",
        '""',
    ],
)
def test_money_that_is_not_a_plain_ascii_decimal_string_is_400(
    customer_client: APIClient, price: str
) -> None:
    before = rows_written()
    body = assert_problem(
        post_raw(customer_client, order_with_price(price)), 400, "validation_error"
    )
    assert "unit_price" in json.dumps(body["errors"])
    assert rows_written() == before


def test_more_decimals_than_the_currency_has_is_422_invalid_amount(
    customer_client: APIClient,
) -> None:
    before = rows_written()
    assert_problem(post_raw(customer_client, order_with_price('"1.999"')), 422, "invalid_amount")
    assert rows_written() == before


@pytest.mark.parametrize(
    ("currency", "price", "subtotal", "shipping", "total"),
    [
        # Standard shipping of 2 units: 4.90 + 0.50, in the currency's places; free from 50.
        ("EUR", "12.50", "25.00", "5.40", "30.40"),
        ("JPY", "1250", "2500", "0", "2500"),
        ("KWD", "1.125", "2.250", "5.400", "7.650"),
    ],
)
@pytest.mark.django_db(transaction=True)  # the payment request reacts to a real commit
def test_amounts_everywhere_have_the_currencys_decimals(
    customer_client: APIClient, currency: str, price: str, subtotal: str, shipping: str, total: str
) -> None:
    body = {"currency": currency, "items": [{**LINE, "unit_price": price}]}
    created = customer_client.post("/api/v1/orders/", body, format="json")
    assert created.status_code == 201, created.content
    amounts = [created.json()[name] for name in ("subtotal", "shipping_total", "total")]
    assert amounts == [subtotal, shipping, total]
    assert created.json()["items"][0]["unit_price"] == price
    event = StoredEvent.objects.get(event_type="OrderCreated")
    assert [event.payload[name] for name in ("subtotal", "shipping_total", "total")] == amounts
    assert event.payload["items"][0]["unit_price"] == price
    requested = StoredEvent.objects.get(event_type="PaymentRequested")
    assert requested.payload["amount"] == total


def test_duplicate_json_keys_are_400_malformed_and_write_nothing(
    customer_client: APIClient,
) -> None:
    before = rows_written()
    raw = '{"currency": "EUR", "currency": "USD", "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1.00"}]}'  # noqa: E501
    body = assert_problem(post_raw(customer_client, raw), 400, "malformed_request")
    assert "duplicate key 'currency'" in body["detail"]
    assert rows_written() == before


@pytest.mark.parametrize("charset", ["bogus-xyz", "latin-1", "utf-16"])
def test_a_body_that_is_not_utf8_json_is_415_and_writes_nothing(
    customer_client: APIClient, charset: str
) -> None:
    before = rows_written()
    response = post_raw(
        customer_client,
        order_with_price('"1.00"'),
        content_type=f"application/json; charset={charset}",
    )
    assert_problem(response, 415, "unsupported_media_type")
    assert rows_written() == before


def test_a_string_where_a_number_belongs_and_a_number_where_a_string_belongs_are_400(
    customer_client: APIClient,
) -> None:
    before = rows_written()
    quantity_as_text = order_with_price('"1.00"').replace('"quantity": 1', '"quantity": "1"')
    assert_problem(post_raw(customer_client, quantity_as_text), 400, "validation_error")
    sku_as_number = order_with_price('"1.00"').replace('"sku": "A"', '"sku": 12')
    assert_problem(post_raw(customer_client, sku_as_number), 400, "validation_error")
    fractional_quantity = order_with_price('"1.00"').replace('"quantity": 1', '"quantity": 1.0')
    assert_problem(post_raw(customer_client, fractional_quantity), 400, "validation_error")
    assert rows_written() == before


# --- one rule everywhere: webhooks read like API bodies ------------------------------------------


def amount_spelled(raw: str) -> Any:
    """A payment.succeeded body whose amount is ``raw`` JSON text (the payment's is "14.90")."""

    def body(payment: Payment) -> bytes:
        text = json.dumps(payment_succeeded(payment))
        return text.replace('"amount": "14.90"', f'"amount": {raw}').encode()

    return body


def with_duplicate_type(payment: Payment) -> bytes:
    succeeded = json.dumps(payment_succeeded(payment))
    return succeeded.replace('{"type": ', '{"type": "payment.failed", "type": ', 1).encode()


def nested_too_deep(payment: Payment) -> bytes:
    message = payment_succeeded(payment)
    message["data"]["extra"] = json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    return json.dumps(message).encode()


WEBHOOK_REFUSALS = {
    "duplicate-keys": (with_duplicate_type, "application/json", 400, "malformed_request"),
    "nested-too-deep": (nested_too_deep, "application/json", 400, "malformed_request"),
    "no-content-type": (amount_spelled('"14.90"'), "", 415, "unsupported_media_type"),
    "text-plain": (amount_spelled('"14.90"'), "text/plain", 415, "unsupported_media_type"),
    "amount-extra-decimal": (
        amount_spelled('"14.900"'),
        "application/json",
        400,
        "validation_error",
    ),
    "amount-exponent": (amount_spelled('"1.49e1"'), "application/json", 400, "validation_error"),
    "amount-json-number": (amount_spelled("14.9"), "application/json", 400, "validation_error"),
}


@pytest.mark.parametrize(
    ("make_body", "content_type", "status", "code"),
    WEBHOOK_REFUSALS.values(),
    ids=WEBHOOK_REFUSALS.keys(),
)
def test_a_webhook_the_api_would_refuse_is_refused_alike_and_applies_nothing(
    anon_client: APIClient,
    customer: Any,
    settings: Any,
    make_body: Any,
    content_type: str,
    status: int,
    code: str,
) -> None:
    settings.OMS_WEBHOOK_SECRETS = {provider: [secret] for provider, secret in SECRETS.items()}
    order, payment = submitted_order(customer, "card")
    assert str(payment.amount) == "14.90"
    before = rows_written()
    response = post_webhook(anon_client, "payment", make_body(payment), content_type=content_type)
    problem = assert_problem(response, status, code)
    if code == "validation_error":
        assert list(problem["errors"]["data"]) == ["amount"]
    assert rows_written() == before
    assert Order.objects.get(id=order.id).state == "PENDING"
    # The one row every webhook leaves: signature valid, message rejected.
    log = WebhookLog.objects.get()
    assert (log.outcome, log.signature_valid) == (WebhookOutcome.REJECTED, True)


# --- one rule everywhere: a replay checks the request's headers first -----------------------------


def order_ready_for(command: str, customer: Any) -> Order:
    """An order the command endpoint accepts (ship and deliver need its shipment)."""
    order = create_order(customer)
    if command == "cancel":
        return order
    move_to(order, OrderState.PAID)
    if command in ("ship", "deliver"):
        shipping = ShippingService()
        shipping.create_shipment(CreateShipment(order_id=order.id, actor=Actor.system()))
        if command == "deliver":
            shipping.ship(ShipOrder(order_id=order.id, actor=Actor.system()))
    return Order.objects.get(id=order.id)


def test_every_endpoint_that_takes_if_match_parses_it_before_a_replay() -> None:
    schema = SchemaGenerator().get_schema(None, public=True)
    taking = {
        path
        for path, operations in schema["paths"].items()
        for operation in operations.values()
        if any(parameter["name"] == "If-Match" for parameter in operation.get("parameters", []))
    }
    assert len(taking) == 4
    for path in taking:
        view = resolve(path.replace("{order_id}", str(uuid.uuid4()))).func
        assert issubclass(view.view_class, OrderCommandView), path  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["cancel", "process", "ship", "deliver"])
def test_a_malformed_if_match_is_400_even_when_its_idempotency_key_was_seen(
    customer_client: APIClient, staff_client: APIClient, customer: Any, command: str
) -> None:
    order = order_ready_for(command, customer)
    client = customer_client if command == "cancel" else staff_client
    url = f"/api/v1/orders/{order.id}/{command}/"
    key = f"{command}-once"
    version = f'"{order.version}"'
    first = client.post(url, {}, format="json", HTTP_IF_MATCH=version, HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 200, first.content
    before = rows_written()
    for malformed in ("two", '"1', "W/", ""):
        replayed = client.post(
            url, {}, format="json", HTTP_IF_MATCH=malformed, HTTP_IDEMPOTENCY_KEY=key
        )
        body = assert_problem(replayed, 400, "validation_error")
        assert list(body["errors"]) == ["If-Match"]
    assert rows_written() == before
    again = client.post(url, {}, format="json", HTTP_IF_MATCH=version, HTTP_IDEMPOTENCY_KEY=key)
    assert (again.status_code, again["Idempotent-Replayed"]) == (200, "true")
    assert again.json() == first.json()


# --- point 5: one error shape, one pagination convention ----------------------------------------


@pytest.mark.parametrize("debug", [True, False])
def test_unknown_api_paths_are_404_problems_whatever_debug_says(
    customer_client: APIClient, settings: Any, debug: bool
) -> None:
    settings.DEBUG = debug
    for path in ("/api/v1/orders/abc/", "/api/v1/nothing-here/", "/api/v2/orders/"):
        body = assert_problem(customer_client.get(path), 404, "not_found")
        assert "urlpatterns" not in json.dumps(body)


def test_an_api_post_without_its_trailing_slash_is_404_not_a_redirect_or_500(
    customer_client: APIClient, settings: Any
) -> None:
    settings.DEBUG = True  # Django refuses to redirect a POST with a 500 in debug mode
    before = rows_written()
    response = customer_client.post("/api/v1/orders", {"currency": "EUR"}, format="json")
    assert_problem(response, 404, "not_found")
    assert rows_written() == before


def test_a_disallowed_host_is_a_400_problem(settings: Any) -> None:
    settings.DEBUG = False
    response = Client(HTTP_HOST="evil.example").get("/api/v1/orders/")
    assert_problem(response, 400, "bad_request")


LISTS = [
    "/api/v1/orders/",
    "/api/v1/orders/{id}/events/",
    "/api/v1/orders/{id}/history/",
    "/api/v1/events/",
    "/api/v1/events/dead-letters/",
]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("page_size", ["0", "-1", "abc", "", "100000", "1.5", "５"])  # noqa: RUF001
def test_a_page_size_out_of_range_is_400_naming_it(
    staff_client: APIClient, customer: Any, path: str, page_size: str
) -> None:
    order = create_order(customer)
    response = staff_client.get(path.format(id=order.id), {"page_size": page_size})
    body = assert_problem(response, 400, "validation_error")
    assert "page_size" in body["errors"]


@pytest.mark.parametrize("path", LISTS)
def test_every_list_is_a_cursor_page(staff_client: APIClient, customer: Any, path: str) -> None:
    order = create_order(customer)
    response = staff_client.get(path.format(id=order.id), {"page_size": "1"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert {"results", "next", "previous"} <= set(body)
    assert len(body["results"]) <= 1


@pytest.mark.parametrize("query", ["state=", "state=paid", "created_after=", "created_after=x"])
def test_an_empty_or_unknown_filter_value_is_400(customer_client: APIClient, query: str) -> None:
    body = assert_problem(customer_client.get(f"/api/v1/orders/?{query}"), 400, "validation_error")
    assert query.split("=")[0] in body["errors"]


def test_the_timeline_filter_takes_only_known_aggregate_types(
    customer_client: APIClient, customer: Any
) -> None:
    order = create_order(customer)
    path = f"/api/v1/orders/{order.id}/events/"
    assert customer_client.get(path, {"aggregate_type": "order"}).status_code == 200
    body = assert_problem(
        customer_client.get(path, {"aggregate_type": "planet"}), 400, "validation_error"
    )
    assert "aggregate_type" in body["errors"]
