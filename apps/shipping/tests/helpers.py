"""Helpers of the shipping tests: orders and deliveries through the real code."""

from __future__ import annotations

import uuid
from typing import Any

from apps.events.models import StoredEvent
from apps.events.subscriptions import HandlingOutcome, handle_once
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.shipping.models import Shipment
from apps.shipping.services import ShippingService

shipping = ShippingService()
SYSTEM = Actor.system()
CREATE_SHIPMENT = "shipping.create_shipment"


def paid_order(customer: Any, **extra: Any) -> Order:
    return move_to(create_order(customer, **extra), OrderState.PAID)


def state_of(order: Order) -> str:
    return Order.objects.get(id=order.id).state


def shipment_of(order: Order) -> Shipment:
    return Shipment.objects.get(order_id=order.id)


def event_types_of(aggregate_id: uuid.UUID) -> list[str]:
    return list(
        StoredEvent.objects.filter(aggregate_id=aggregate_id)
        .order_by("version")
        .values_list("event_type", flat=True)
    )


Delivery = tuple[str, StoredEvent]  # (subscription, event): one handler's work on one event


def delivery_of(event_type: str, aggregate_id: uuid.UUID) -> Delivery:
    return CREATE_SHIPMENT, StoredEvent.objects.get(
        event_type=event_type, aggregate_id=aggregate_id
    )


def redeliver(delivery: Delivery) -> HandlingOutcome:
    """Deliver the same event to the same handler again, as at-least-once delivery may."""
    return handle_once(*delivery)
