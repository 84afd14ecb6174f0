"""The client of the carriers: the one simulated part of shipping.

The carrier books the pickup of a shipment and issues its tracking number. Booking is keyed by the
shipment, so asking twice gives the same tracking number and never books a second pickup.
"""

from __future__ import annotations

import enum
import uuid
from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class ParcelStatus(enum.StrEnum):
    BOOKED = "booked"  # not collected yet
    SHIPPED = "shipped"
    DELIVERED = "delivered"


@dataclass(frozen=True)
class ParcelReport:
    """What the carrier knows of a shipment when asked."""

    status: ParcelStatus
    carrier: str
    tracking_number: str


class CarrierClient(Protocol):
    # A client of a real carrier declares ``simulated = False``; any other client is taken for a
    # simulated one, which production refuses unless told (``OMS_ALLOW_SIMULATED_PROVIDERS``).
    simulated: bool

    def book_pickup(self, *, shipment_id: uuid.UUID, carrier: str, service_level: str) -> str:
        """Book the pickup of a shipment; returns its tracking number."""
        ...

    def track(self, *, shipment_id: uuid.UUID) -> ParcelReport | None:
        """Where the parcel of ``shipment_id`` is; None if the carrier knows nothing of it."""
        ...


class SimulatedCarrier:
    """Books every pickup at once; the tracking number is derived from the shipment. It keeps
    no record (``track`` knows nothing); the provider simulator extends it with one."""

    simulated = True  # no parcel moves: subclasses stay simulated unless they say otherwise

    def book_pickup(self, *, shipment_id: uuid.UUID, carrier: str, service_level: str) -> str:
        prefix = "".join(ch for ch in carrier.upper() if ch.isalnum())[:3] or "TRK"
        return f"{prefix}{shipment_id.hex[:12].upper()}"

    def track(self, *, shipment_id: uuid.UUID) -> ParcelReport | None:
        return None


def carrier_client() -> CarrierClient:
    """The configured carrier client (``OMS_CARRIER_CLIENT``)."""
    client: CarrierClient = import_string(settings.OMS_CARRIER_CLIENT)()
    return client
