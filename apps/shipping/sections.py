"""The shipment section of the order representation (registered in ``ShippingConfig.ready``)."""

from __future__ import annotations

from typing import Any

from apps.orders.sections import provider_for
from apps.shipping.api.v1.serializers import ShipmentSectionOutputSerializer
from apps.shipping.models import Shipment
from shared.money import format_amount
from shared.timestamps import optional_utc_text

FIELDS = (
    "id",
    "order_id",
    "carrier",
    "service_level",
    "status",
    "rate",
    "currency",
    "tracking_number",
    "estimated_delivery",
    "shipped_at",
    "delivered_at",
)


def section_of(shipment: Shipment) -> dict[str, Any]:
    return {
        "id": str(shipment.id),
        "carrier": shipment.carrier,
        "service_level": shipment.service_level,
        "status": shipment.status,
        "rate": format_amount(shipment.rate, shipment.currency),
        "currency": shipment.currency,
        "tracking_number": shipment.tracking_number,
        "estimated_delivery": shipment.estimated_delivery.isoformat(),
        "shipped_at": optional_utc_text(shipment.shipped_at),
        "delivered_at": optional_utc_text(shipment.delivered_at),
    }


PROVIDER = provider_for(Shipment, FIELDS, section_of, schema=ShipmentSectionOutputSerializer)
