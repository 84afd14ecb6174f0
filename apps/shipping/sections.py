"""The shipment section of the order representation (registered in ``ShippingConfig.ready``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models.expressions import RawSQL

from apps.orders.sections import ORDER_ID_COLUMN, SectionProvider
from apps.shipping.models import Shipment
from shared.json_rows import instance_from_json, row_as_json_subquery
from shared.money import format_amount

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
        "shipped_at": shipment.shipped_at.isoformat() if shipment.shipped_at else None,
        "delivered_at": shipment.delivered_at.isoformat() if shipment.delivered_at else None,
    }


def shipment_sections(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The shipments of ``order_ids`` in one query."""
    return {
        shipment.order_id: section_of(shipment)
        for shipment in Shipment.objects.filter(order_id__in=order_ids).only(*FIELDS)
    }


def shipment_subquery() -> RawSQL:
    """The order's shipment (at most one: ``order_id`` is unique) as a JSON object, or NULL."""
    return row_as_json_subquery(Shipment, FIELDS, where_column="order_id", equals=ORDER_ID_COLUMN)


def shipment_from_json(data: Mapping[str, Any] | str) -> dict[str, Any]:
    return section_of(instance_from_json(Shipment, data))


PROVIDER = SectionProvider(
    for_orders=shipment_sections, subquery=shipment_subquery, from_json=shipment_from_json
)
