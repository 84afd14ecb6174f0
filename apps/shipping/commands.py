"""Commands of the shipping service: what a caller asks it to do. One command, one method,
one transaction (the style of ``apps/orders/commands.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from apps.orders.commands import Actor


@dataclass(frozen=True, kw_only=True)
class ShipmentCommand:
    """Base of the shipping commands: each acts on one order's shipment."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class CreateShipment(ShipmentCommand):
    """Request a paid order's shipment and start processing it."""


@dataclass(frozen=True, kw_only=True)
class ShipOrder(ShipmentCommand):
    """Hand a processing order's parcel to its carrier (staff)."""

    tracking_number: str | None = None
    carrier: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RecordShipped(ShipmentCommand):
    """The carrier took the parcel."""

    carrier: str
    tracking_number: str
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class CarrierReport(ShipmentCommand):
    """What the carrier reports of a parcel (shipped, or delivered): who carries it, under
    which tracking number."""

    carrier: str
    tracking_number: str

    def as_shipped(self) -> RecordShipped:
        return RecordShipped(
            actor=self.actor,
            order_id=self.order_id,
            idempotency_key=self.idempotency_key,
            carrier=self.carrier,
            tracking_number=self.tracking_number,
        )


@dataclass(frozen=True, kw_only=True)
class RecordDelivered(ShipmentCommand):
    """The parcel arrived."""

    expected_version: int | None = None
