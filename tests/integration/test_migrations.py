"""Upgrading an existing database: events already stored join their order's timeline."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from apps.events import lag

pytestmark = pytest.mark.django_db(transaction=True)

BEFORE = [
    ("events", "0003_delivery_dispatched_at"),
    ("payments", "0001_initial"),
    ("shipping", "0001_initial"),
]
AFTER = [
    ("events", "0004_storedevent_partition_key"),
    ("payments", "0002_events_in_order_stream"),
    ("shipping", "0002_events_in_order_stream"),
]


def migrate(targets: list[tuple[str, str]]) -> Any:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state(targets).apps


def test_stored_payment_and_shipment_events_get_their_orders_id_as_partition_key() -> None:
    old_apps = migrate(BEFORE)
    stored_event = old_apps.get_model("events", "StoredEvent")
    order_id, payment_id, shipment_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    for aggregate_type, aggregate_id, event_type, payload in [
        ("order", order_id, "OrderCreated", {"state": "PENDING"}),
        ("payment", payment_id, "PaymentRequested", {"order_id": str(order_id)}),
        ("shipment", shipment_id, "ShipmentRequested", {"order_id": str(order_id)}),
    ]:
        stored_event.objects.create(
            event_id=uuid.uuid4(),
            event_type=event_type,
            aggregate_type=aggregate_type,
            aggregate_id=aggregate_id,
            version=1,
            payload=payload,
            metadata={},
            occurred_at=moment,
        )
    try:
        new_apps = migrate(AFTER)
        upgraded = new_apps.get_model("events", "StoredEvent")
        keys = dict(upgraded.objects.values_list("aggregate_type", "partition_key"))
        assert keys == {"order": order_id, "payment": order_id, "shipment": order_id}
    finally:
        # Leave the schema at the latest state for the tests that follow.
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_open_outbox_deliveries_become_parked_events_and_checkpoints_start_at_the_head() -> None:
    old_apps = migrate([("events", "0006_projections_in_the_command")])
    stored_event = old_apps.get_model("events", "StoredEvent")
    delivery = old_apps.get_model("events", "Delivery")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    events = []
    for version in (1, 2, 3, 4):
        aggregate_id = uuid.uuid4()
        events.append(
            stored_event.objects.create(
                event_id=uuid.uuid4(),
                event_type="OrderCreated",
                aggregate_type="order",
                aggregate_id=aggregate_id,
                partition_key=aggregate_id,
                version=1,
                payload={"n": version},
                metadata={},
                occurred_at=moment,
            )
        )
    for event, status, attempts in zip(
        events,
        ("pending", "retrying", "dead", "succeeded"),
        (0, 2, 4, 1),
        strict=True,
    ):
        delivery.objects.create(
            event=event,
            handler="payments.request_payment",
            status=status,
            attempts=attempts,
            next_attempt_at=moment,
            last_error="" if status in ("pending", "succeeded") else "boom",
            created_at=moment,
            updated_at=moment,
        )
    try:
        new_apps = migrate([("events", "0007_subscriptions_replace_the_outbox")])
        parked = new_apps.get_model("events", "ParkedEvent")
        rows = {
            row.event_id: (row.status, row.attempts, row.last_error)
            for row in parked.objects.filter(subscription="payments.request_payment")
        }
        assert rows == {
            events[0].sequence: ("parked", 0, ""),
            events[1].sequence: ("parked", 2, "boom"),
            events[2].sequence: ("dead", 4, "boom"),
        }
        checkpoints = new_apps.get_model("events", "SubscriptionCheckpoint").objects.filter(
            subscription="payments.request_payment"
        )
        head = max(
            upgraded_positions := list(
                new_apps.get_model("events", "StoredEvent").objects.values_list(
                    "position", flat=True
                )
            )
        )
        assert None not in upgraded_positions
        assert checkpoints.exists()
        assert {c.position for c in checkpoints} == {head}
        upgraded = new_apps.get_model("events", "StoredEvent")
        for row in upgraded.objects.all():
            assert row.bucket == row.partition_key.int % 1024
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def test_the_outbound_fan_out_of_an_existing_deployment_starts_at_the_head_of_the_log() -> None:
    events_head = ("events", "0007_subscriptions_replace_the_outbox")
    old_apps = migrate([("outbound", "0001_webhook_endpoints_and_messages"), events_head])
    stored_event = old_apps.get_model("events", "StoredEvent")
    for _ in range(3):
        stored_event.objects.create(
            event_id=uuid.uuid4(),
            event_type="OrderCreated",
            aggregate_type="order",
            aggregate_id=uuid.uuid4(),
            partition_key=uuid.uuid4(),
            version=1,
            payload={},
            metadata={},
            occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        )
    head = max(stored_event.objects.values_list("position", flat=True))
    try:
        new_apps = migrate([("outbound", "0002_fan_out_starts_at_the_head"), events_head])
        checkpoints = new_apps.get_model("events", "SubscriptionCheckpoint").objects.filter(
            subscription="outbound.fan_out"
        )
        assert sorted(checkpoints.values_list("segment", "position")) == [
            (segment, head) for segment in range(settings.OMS_SUBSCRIPTION_SEGMENTS)
        ]
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
    fan_out = [row for row in lag.status() if row.subscription == "outbound.fan_out"]
    assert {row.behind for row in fan_out} == {0}


def test_orders_before_shipping_was_charged_keep_their_total_and_refunds_join_the_ledger(
    customer: Any,
) -> None:
    old_apps = migrate(
        [("orders", "0004_item_ordering_by_column"), ("payments", "0002_events_in_order_stream")]
    )
    order_model = old_apps.get_model("orders", "Order")
    summary_model = old_apps.get_model("orders", "OrderSummary")
    payment_model = old_apps.get_model("payments", "Payment")
    refund_model = old_apps.get_model("payments", "Refund")
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    order = order_model.objects.create(
        id=uuid.uuid4(),
        customer_id=customer.pk,
        state="CANCELLED",
        currency="EUR",
        total="26.99",
        payment_method="card",
        shipping_method="standard",
        version=4,
        created_at=moment,
        updated_at=moment,
    )
    summary_model.objects.create(
        order_id=order.id,
        customer_id=customer.pk,
        state="CANCELLED",
        payment_status="refunded",
        currency="EUR",
        total="26.99",
        item_count=1,
        line_count=1,
        created_at=moment,
        updated_at=moment,
    )
    payment = payment_model.objects.create(
        id=uuid.uuid4(),
        order_id=order.id,
        amount="26.99",
        currency="EUR",
        method="card",
        status="refunded",
        provider_reference="card_old",
        version=4,
        created_at=moment,
        updated_at=moment,
    )
    refund_model.objects.create(
        id=uuid.uuid4(),
        payment_id=payment.id,
        amount="26.99",
        currency="EUR",
        provider_reference="refund_old",
        created_at=moment,
    )
    try:
        new_apps = migrate(
            [("orders", "0005_shipping_charged"), ("payments", "0003_refund_ledger")]
        )
        upgraded = new_apps.get_model("orders", "Order").objects.get(id=order.id)
        assert (upgraded.subtotal, upgraded.shipping_total, upgraded.total) == (
            Decimal("26.99"),
            0,
            Decimal("26.99"),
        )
        summary = new_apps.get_model("orders", "OrderSummary").objects.get(order_id=order.id)
        assert (summary.subtotal, summary.shipping_total, summary.refunded_total) == (
            Decimal("26.99"),
            0,
            Decimal("26.99"),
        )
        paid = new_apps.get_model("payments", "Payment").objects.get(id=payment.id)
        assert (paid.amount_refunded, paid.amount_refund_pending) == (Decimal("26.99"), 0)
        refund = new_apps.get_model("payments", "Refund").objects.get(payment_id=payment.id)
        assert (refund.status, refund.order_id, refund.settled_at) == (
            "succeeded",
            order.id,
            moment,
        )
    finally:
        migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())
