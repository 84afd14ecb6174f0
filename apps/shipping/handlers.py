"""How shipping reacts to order events.

Safe to run twice (at-least-once delivery): the second run finds the shipment and the order
already processing, and the database refuses a second shipment for one order even when two runs
race. Nothing here depends on who runs it: the embedded worker and Celery run it the same way.
"""

from __future__ import annotations

from apps.events.base import EventEnvelope
from apps.events.decorators import event_handler
from apps.orders.commands import Actor
from apps.orders.events import OrderPaid
from apps.shipping.commands import CreateShipment
from apps.shipping.services import ShippingService


@event_handler(OrderPaid, name="shipping.create_shipment")
class ShipmentRequestHandler:
    """A paid order gets its shipment (ShipmentRequested) and moves on to PROCESSING."""

    def handle(self, event: EventEnvelope) -> None:
        ShippingService().create_shipment(
            CreateShipment(order_id=event.aggregate_id, actor=Actor.system())
        )
