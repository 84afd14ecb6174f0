"""The shipment's statuses: REQUESTED → SHIPPED → DELIVERED (pure Python)."""

from __future__ import annotations

import enum
from types import MappingProxyType

from apps.shipping.errors import InvalidShipmentTransition


class ShipmentStatus(enum.StrEnum):
    REQUESTED = "requested"
    SHIPPED = "shipped"
    DELIVERED = "delivered"


TRANSITIONS: MappingProxyType[ShipmentStatus, frozenset[ShipmentStatus]] = MappingProxyType(
    {
        ShipmentStatus.REQUESTED: frozenset({ShipmentStatus.SHIPPED}),
        ShipmentStatus.SHIPPED: frozenset({ShipmentStatus.DELIVERED}),
        ShipmentStatus.DELIVERED: frozenset(),
    }
)


def transition(current: ShipmentStatus | str, target: ShipmentStatus | str) -> ShipmentStatus:
    """Return ``target`` if the move is allowed, else raise :class:`InvalidShipmentTransition`."""
    allowed = TRANSITIONS[ShipmentStatus(current)]
    if ShipmentStatus(target) not in allowed:
        raise InvalidShipmentTransition(str(current), str(target), [str(s) for s in allowed])
    return ShipmentStatus(target)
