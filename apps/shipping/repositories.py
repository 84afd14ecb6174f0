"""Loading shipments for change."""

from __future__ import annotations

import uuid

from django.db import connection

from apps.shipping.models import Shipment


def lock_shipment_of(order_id: uuid.UUID) -> Shipment | None:
    """The order's shipment, its row locked until the transaction ends; None when there is none."""
    rows = Shipment.objects.filter(order_id=order_id)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.first()
