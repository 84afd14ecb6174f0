"""Helpers of the shipping tests: orders and deliveries through the real code."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from apps.events.models import Delivery, DeliveryStatus, StoredEvent
from apps.events.runner import Outcome, run_delivery
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.shipping.models import Shipment
from apps.shipping.services import ShippingService
from shared import clock

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


def delivery_of(event_type: str, aggregate_id: uuid.UUID) -> Delivery:
    return Delivery.objects.get(
        event__event_type=event_type, event__aggregate_id=aggregate_id, handler=CREATE_SHIPMENT
    )


def redeliver(delivery: Delivery) -> Outcome:
    """Deliver the same event to the same handler again, as at-least-once delivery may."""
    Delivery.objects.filter(id=delivery.id).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        succeeded_at=None,
        next_attempt_at=clock.now() - timedelta(seconds=1),
    )
    return run_delivery(delivery.id)
