"""The shipping service: request, ship, deliver, with the order following along."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from apps.events.models import StoredEvent
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.shipping.commands import CreateShipment, RecordDelivered, RecordShipped, ShipOrder
from apps.shipping.errors import ShipmentNotFound, TrackingNumberInUse
from apps.shipping.models import Shipment
from apps.shipping.tests.helpers import (
    SYSTEM,
    event_types_of,
    paid_order,
    shipment_of,
    shipping,
    state_of,
)
from shared.clock import frozen_clock
from shared.exceptions import InvalidCommand, InvalidStateTransition

pytestmark = pytest.mark.django_db

MONDAY = datetime(2025, 3, 3, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "carrier", "rate", "delivery"),
    [
        ("standard", "DHL", Decimal("4.90"), date(2025, 3, 8)),
        ("express", "UPS", Decimal("14.90"), date(2025, 3, 4)),
    ],
)
def test_a_paid_order_gets_its_shipment_and_starts_processing(
    customer: Any, method: str, carrier: str, rate: Decimal, delivery: date
) -> None:
    order = paid_order(customer, items=1, shipping_method=method)  # one unit, total 10.00
    with frozen_clock(MONDAY):
        shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    shipment = shipment_of(order)
    assert (shipment.carrier, shipment.service_level, shipment.status) == (
        carrier,
        method,
        "requested",
    )
    assert (shipment.rate, shipment.currency) == (rate, "EUR")
    assert shipment.estimated_delivery == delivery
    assert shipment.tracking_number is None
    assert event_types_of(shipment.id) == ["ShipmentRequested"]
    requested = StoredEvent.objects.get(aggregate_id=shipment.id)
    assert requested.payload["order_id"] == str(order.id)
    assert requested.payload["estimated_delivery"] == delivery.isoformat()
    assert state_of(order) == "PROCESSING"
    assert event_types_of(order.id)[-1] == "OrderProcessingStarted"


def test_the_rate_counts_units_not_lines(customer: Any) -> None:
    order = paid_order(customer, items=2)  # lines of 1 and 2 units, total 30.00
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    assert shipment_of(order).rate == Decimal("5.90")  # 4.90 + 2 x 0.50


def test_an_order_cancelled_before_its_shipment_gets_none(customer: Any) -> None:
    order = move_to(create_order(customer), OrderState.CANCELLED)
    assert shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM)) is None
    assert not Shipment.objects.exists()
    assert state_of(order) == "CANCELLED"


def test_an_order_staff_already_processed_gets_its_shipment_without_a_second_transition(
    customer: Any,
) -> None:
    order = move_to(create_order(customer), OrderState.PROCESSING)
    events = StoredEvent.objects.filter(aggregate_id=order.id).count()
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    assert shipment_of(order).status == "requested"
    assert StoredEvent.objects.filter(aggregate_id=order.id).count() == events


def test_shipped_then_delivered_moves_shipment_and_order_together(customer: Any) -> None:
    order = paid_order(customer)
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    shipping.record_shipped(
        RecordShipped(order_id=order.id, carrier="DHL", tracking_number="JD01", actor=SYSTEM)
    )
    shipment = shipment_of(order)
    assert (shipment.status, shipment.tracking_number) == ("shipped", "JD01")
    assert shipment.shipped_at is not None
    assert state_of(order) == "SHIPPED"
    shipped = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderShipped")
    assert (shipped.payload["carrier"], shipped.payload["tracking_number"]) == ("DHL", "JD01")

    shipping.record_delivered(RecordDelivered(order_id=order.id, actor=SYSTEM))
    assert shipment_of(order).status == "delivered"
    assert state_of(order) == "DELIVERED"
    assert event_types_of(shipment.id) == [
        "ShipmentRequested",
        "ShipmentShipped",
        "ShipmentDelivered",
    ]


def test_ship_without_a_tracking_number_asks_the_carrier(customer: Any) -> None:
    order = paid_order(customer, shipping_method="express")
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    shipping.ship(ShipOrder(order_id=order.id, actor=SYSTEM))
    shipment = shipment_of(order)
    assert shipment.tracking_number == f"UPS{shipment.id.hex[:12].upper()}"
    assert state_of(order) == "SHIPPED"


def test_the_carrier_must_be_the_shipments(customer: Any) -> None:
    order = paid_order(customer)
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    with pytest.raises(InvalidCommand) as info:
        shipping.record_shipped(
            RecordShipped(order_id=order.id, carrier="UPS", tracking_number="1Z", actor=SYSTEM)
        )
    assert info.value.extra["expected"] == "DHL"
    assert shipment_of(order).status == "requested"
    assert state_of(order) == "PROCESSING"


def test_a_tracking_number_cannot_serve_two_shipments(customer: Any) -> None:
    first, second = paid_order(customer), paid_order(customer)
    for order in (first, second):
        shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    shipping.record_shipped(
        RecordShipped(order_id=first.id, carrier="DHL", tracking_number="SAME", actor=SYSTEM)
    )
    before = StoredEvent.objects.count()
    with pytest.raises(TrackingNumberInUse) as info:
        shipping.record_shipped(
            RecordShipped(order_id=second.id, carrier="DHL", tracking_number="SAME", actor=SYSTEM)
        )
    assert info.value.status == 409
    assert StoredEvent.objects.count() == before
    assert (shipment_of(second).status, state_of(second)) == ("requested", "PROCESSING")


def test_shipping_an_order_that_is_not_processing_is_409_and_changes_nothing(
    customer: Any,
) -> None:
    order = paid_order(customer)
    shipping.create_shipment(CreateShipment(order_id=order.id, actor=SYSTEM))
    shipping.ship(ShipOrder(order_id=order.id, actor=SYSTEM))
    before = StoredEvent.objects.count()
    with pytest.raises(InvalidStateTransition):
        shipping.ship(ShipOrder(order_id=order.id, actor=SYSTEM))
    with pytest.raises(InvalidStateTransition):
        shipping.record_shipped(
            RecordShipped(order_id=order.id, carrier="DHL", tracking_number="X", actor=SYSTEM)
        )
    assert StoredEvent.objects.count() == before


def test_delivering_an_order_without_a_shipment_is_404(customer: Any) -> None:
    order = move_to(create_order(customer), OrderState.SHIPPED)  # shipped outside shipping
    with pytest.raises(ShipmentNotFound):
        shipping.record_delivered(RecordDelivered(order_id=order.id, actor=SYSTEM))
    assert state_of(order) == "SHIPPED"
