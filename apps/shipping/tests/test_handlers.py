"""The OrderPaid handler under at-least-once delivery: a second delivery duplicates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from apps.events.models import StoredEvent
from apps.events.registry import registry
from apps.events.subscriptions import HandlingOutcome, handle_once
from apps.shipping.commands import CreateShipment, ShipOrder
from apps.shipping.models import Shipment
from apps.shipping.state_machine import ShipmentStatus
from apps.shipping.tests.helpers import (
    CREATE_SHIPMENT,
    SYSTEM,
    delivery_of,
    event_types_of,
    paid_order,
    redeliver,
    shipment_of,
    shipping,
    state_of,
)
from shared import clock

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int]:
    return Shipment.objects.count(), StoredEvent.objects.count()


def test_the_handler_is_registered_for_order_paid() -> None:
    assert CREATE_SHIPMENT in registry.handler_names_for("OrderPaid")


def test_order_paid_delivered_twice_requests_one_shipment(customer: Any) -> None:
    order = paid_order(customer)
    delivery = delivery_of("OrderPaid", order.id)
    assert handle_once(*delivery) == HandlingOutcome.SUCCEEDED
    shipment = shipment_of(order)
    assert state_of(order) == "PROCESSING"
    paid = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderPaid")
    requested = StoredEvent.objects.get(aggregate_id=shipment.id)
    assert requested.metadata["causation_id"] == str(paid.event_id)
    before = counts()

    assert redeliver(delivery) == HandlingOutcome.SUCCEEDED
    handler = registry.create(CREATE_SHIPMENT)
    handler.handle(paid.envelope())
    handler.handle(paid.envelope())
    assert counts() == before
    assert event_types_of(shipment.id) == ["ShipmentRequested"]
    assert event_types_of(order.id).count("OrderProcessingStarted") == 1


def test_a_late_delivery_after_shipping_changes_nothing(customer: Any) -> None:
    order = paid_order(customer)
    delivery = delivery_of("OrderPaid", order.id)
    handle_once(*delivery)
    shipping.ship(ShipOrder(order_id=order.id, actor=SYSTEM))
    before = counts()
    assert redeliver(delivery) == HandlingOutcome.SUCCEEDED
    assert counts() == before
    assert state_of(order) == "SHIPPED"


def test_the_database_refuses_a_second_shipment_for_one_order(customer: Any) -> None:
    order = paid_order(customer)
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    twin = Shipment(
        order_id=order.id,
        carrier="DHL",
        service_level="standard",
        rate=0,
        currency="EUR",
        status=ShipmentStatus.REQUESTED,
        estimated_delivery=clock.now().date(),
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)
