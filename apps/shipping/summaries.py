"""The shipment section of the order representation (registered in ``ShippingConfig.ready``)."""

from __future__ import annotations

import uuid
from typing import Any

from apps.shipping.models import Shipment
from shared.money import format_amount


def shipment_summaries(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The shipments of ``order_ids`` in one query."""
    return {
        shipment.order_id: {
            "id": str(shipment.id),
            "carrier": shipment.carrier,
            "service_level": shipment.service_level,
            "status": shipment.status,
            "rate": format_amount(shipment.rate, shipment.currency),
            "currency": shipment.currency,
            "tracking_number": shipment.tracking_number,
            "estimated_delivery": shipment.estimated_delivery.isoformat(),
            "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
            "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
        }
        for shipment in Shipment.objects.filter(order_id__in=order_ids)
    }
