"""The client of the carriers: the one simulated part of shipping.

The carrier books the pickup of a shipment and issues its tracking number. Booking is keyed by the
shipment, so asking twice gives the same tracking number and never books a second pickup.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from django.conf import settings
from django.utils.module_loading import import_string


class CarrierClient(Protocol):
    def book_pickup(self, *, shipment_id: uuid.UUID, carrier: str, service_level: str) -> str:
        """Book the pickup of a shipment; returns its tracking number."""
        ...


class SimulatedCarrier:
    """Books every pickup at once; the tracking number is derived from the shipment."""

    def book_pickup(self, *, shipment_id: uuid.UUID, carrier: str, service_level: str) -> str:
        prefix = "".join(ch for ch in carrier.upper() if ch.isalnum())[:3] or "TRK"
        return f"{prefix}{shipment_id.hex[:12].upper()}"


def carrier_client() -> CarrierClient:
    """The configured carrier client (``OMS_CARRIER_CLIENT``)."""
    client: CarrierClient = import_string(settings.OMS_CARRIER_CLIENT)()
    return client
