"""A typed client generated from the served OpenAPI schema works against a live server.

openapi-python-client turns ``/api/schema/`` into a Python package; the test imports it and walks
an order through it: create, list, read, pay, cancel, read the timeline, and read a refusal as a
problem document; then, as staff, takes a paid order to delivery and gives some money back. A
schema that documents something else than the server answers (a bare array for a paginated list,
an error body that is not a problem, a section left an untyped dict) breaks the generated code
here.
"""

from __future__ import annotations

import datetime
import importlib
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command

from apps.orders.commands import Actor
from apps.payments.commands import RecordPaymentResult
from apps.payments.services import PaymentService
from tests.contract.conftest import Identity

GENERATOR = Path(sys.executable).parent / "openapi-python-client"
PACKAGE = "oms_client"


def generate(schema: Path, out: Path) -> str:
    config = out.parent / "generator.yaml"
    # No post hooks: by default the generator formats its output with ruff from PATH.
    config.write_text(f"package_name_override: {PACKAGE}\npost_hooks: []\n")
    result = subprocess.run(
        [
            str(GENERATOR),
            "generate",
            "--path",
            str(schema),
            "--output-path",
            str(out / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--overwrite",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    return output


@pytest.fixture(scope="module")
def oms_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    directory = tmp_path_factory.mktemp("client")
    schema = directory / "schema.yaml"
    call_command("spectacular", "--file", str(schema))
    output = generate(schema, directory)
    assert "Warning" not in output, output
    sys.path.insert(0, str(directory))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(directory))
        for name in [n for n in sys.modules if n.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def operation(name: str) -> Any:
    return importlib.import_module(f"{PACKAGE}.api.orders.{name}")


def model(name: str) -> Any:
    return getattr(importlib.import_module(f"{PACKAGE}.models"), name)


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_creates_lists_pays_cancels_and_reads_the_timeline(
    oms_client: Any, live_server: Any, contract_customer: Identity
) -> None:
    client = oms_client.AuthenticatedClient(
        base_url=live_server.url,
        token=contract_customer.token,
        prefix="Token",
        raise_on_unexpected_status=True,
    )
    body = model("CreateOrderInputRequest").from_dict(
        {
            "currency": "EUR",
            "items": [{"sku": "A-1", "name": "A", "quantity": 2, "unit_price": "12.50"}],
        }
    )
    created = operation("orders_create").sync_detailed(client=client, body=body)
    assert created.status_code == 201, created.content
    order = created.parsed
    assert isinstance(order, model("OrderOutput"))
    assert (order.state, order.subtotal, order.shipping_total, order.total, order.version) == (
        "PENDING",
        "25.00",
        "5.40",
        "30.40",
        1,
    )

    listed = operation("orders_list").sync(client=client, page_size=10)
    assert isinstance(listed, model("PaginatedOrderSummaryOutputList"))
    assert [str(summary.id) for summary in listed.results] == [str(order.id)]

    read = operation("orders_retrieve").sync(order.id, client=client)
    assert read.id == order.id
    assert isinstance(read.payment, model("PaymentSectionOutput"))
    assert read.payment.status == model("PaymentOutputStatusEnum")("requested")
    assert isinstance(read.payment.updated_at, datetime.datetime)
    assert read.shipment is None
    assert read.refunds == []
    assert read.allowed_actions == ["cancel", "pay"]

    paid = operation("orders_pay").sync_detailed(order.id, client=client)
    assert paid.status_code == 202, paid.content
    assert paid.parsed.status == "submitted"

    cancel_body = model("CancelOrderInputRequest").from_dict({"reason": "changed my mind"})
    cancelled = operation("orders_cancel").sync(order.id, client=client, body=cancel_body)
    assert cancelled.state == "CANCELLED"

    # A refusal parses as the documented problem document.
    again = operation("orders_cancel").sync_detailed(order.id, client=client, body=cancel_body)
    assert again.status_code == 409
    assert isinstance(again.parsed, model("Problem"))
    assert again.parsed.code == "invalid_state_transition"
    assert again.parsed.allowed_transitions == []

    timeline = operation("orders_events").sync(order.id, client=client)
    assert isinstance(timeline, model("PaginatedEventOutputList"))
    assert [event.event_type for event in timeline.results] == [
        "OrderCreated",
        "PaymentRequested",
        "PaymentSubmitted",
        "OrderCancelled",
        "PaymentVoided",
    ]
    payment_only = operation("orders_events").sync(
        order.id, client=client, aggregate_type=model("OrdersEventsAggregateType")("payment")
    )
    assert {event.aggregate_type for event in payment_only.results} == {"payment"}


@pytest.mark.django_db(transaction=True)
def test_a_generated_client_reads_the_payment_shipment_and_refunds_as_typed_objects(
    oms_client: Any,
    live_server: Any,
    contract_customer: Identity,
    contract_staff: Identity,
) -> None:
    def client_of(identity: Identity) -> Any:
        return oms_client.AuthenticatedClient(
            base_url=live_server.url,
            token=identity.token,
            prefix="Token",
            raise_on_unexpected_status=True,
        )

    customer, staff = client_of(contract_customer), client_of(contract_staff)
    body = model("CreateOrderInputRequest").from_dict(
        {
            "currency": "EUR",
            "items": [{"sku": "A-1", "name": "A", "quantity": 2, "unit_price": "12.50"}],
        }
    )
    order = operation("orders_create").sync(client=customer, body=body)
    paid = operation("orders_pay").sync(order.id, client=customer)
    # The provider's answer (what its webhook applies); the shipment is requested in reaction.
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid.provider_reference, succeeded=True, actor=Actor.system()
        )
    )
    shipped = operation("orders_ship").sync(order.id, client=staff)
    assert shipped.allowed_actions == ["deliver", "refund"]
    operation("orders_deliver").sync(order.id, client=staff)
    refund_body = model("RefundByAmountInputRequest").from_dict(
        {"amount": "5.00", "reason": "late"}
    )
    refund = operation("orders_refunds_create").sync(order.id, client=staff, body=refund_body)
    assert isinstance(refund, model("RefundOutput"))

    read = operation("orders_retrieve").sync(order.id, client=customer)
    assert read.state == model("StateEnum")("DELIVERED")
    assert read.allowed_actions == []
    assert isinstance(read.payment, model("PaymentSectionOutput"))
    assert read.payment.status == model("PaymentOutputStatusEnum")("succeeded")
    assert read.payment.amount == "30.40"
    assert isinstance(read.shipment, model("ShipmentSectionOutput"))
    assert isinstance(read.shipment.shipped_at, datetime.datetime)
    assert isinstance(read.shipment.delivered_at, datetime.datetime)
    assert isinstance(read.shipment.estimated_delivery, datetime.date)
    (listed_refund,) = read.refunds
    assert isinstance(listed_refund, model("RefundOutput"))
    assert (listed_refund.amount, listed_refund.reason) == ("5.00", "late")
    assert isinstance(listed_refund.created_at, datetime.datetime)
    # Nothing the server sent was left over as an untyped extra.
    for typed in (read, read.payment, read.shipment, listed_refund):
        assert typed.additional_properties == {}, type(typed).__name__
