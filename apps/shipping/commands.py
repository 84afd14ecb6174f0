"""Commands of the shipping service: what a caller asks it to do. One command, one method,
one transaction (the style of ``apps/orders/commands.py``)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from apps.orders.commands import Actor


@dataclass(frozen=True, kw_only=True)
class CreateShipment:
    """Request a paid order's shipment and start processing it."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class ShipOrder:
    """Hand a processing order's parcel to its carrier (staff)."""

    actor: Actor
    order_id: uuid.UUID
    tracking_number: str | None = None
    carrier: str | None = None
    idempotency_key: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RecordShipped:
    """The carrier took the parcel."""

    actor: Actor
    order_id: uuid.UUID
    carrier: str
    tracking_number: str
    idempotency_key: str | None = None
    expected_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class RecordCarrierShipped:
    """The carrier reports the parcel shipped."""

    actor: Actor
    order_id: uuid.UUID
    carrier: str
    tracking_number: str
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordCarrierDelivered:
    """The carrier reports the parcel delivered."""

    actor: Actor
    order_id: uuid.UUID
    carrier: str
    tracking_number: str
    idempotency_key: str | None = None


@dataclass(frozen=True, kw_only=True)
class RecordDelivered:
    """The parcel arrived."""

    actor: Actor
    order_id: uuid.UUID
    idempotency_key: str | None = None
    expected_version: int | None = None
