"""The events of the shipment aggregate. Each carries the ``order_id`` it ships."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar

from apps.events.base import DomainEvent

SHIPMENT_AGGREGATE = "shipment"


@dataclass(frozen=True, kw_only=True)
class ShipmentEvent(DomainEvent):
    aggregate_type: ClassVar[str] = SHIPMENT_AGGREGATE

    order_id: uuid.UUID

    def partition_key(self) -> uuid.UUID:
        return self.order_id


@dataclass(frozen=True, kw_only=True)
class ShipmentRequested(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentRequested"

    carrier: str
    service_level: str
    rate: Decimal
    currency: str
    estimated_delivery: date


@dataclass(frozen=True, kw_only=True)
class ShipmentShipped(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentShipped"

    carrier: str
    tracking_number: str


@dataclass(frozen=True, kw_only=True)
class ShipmentDelivered(ShipmentEvent):
    event_type: ClassVar[str] = "ShipmentDelivered"
