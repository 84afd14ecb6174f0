"""Helpers for data migrations that every app writes the same way."""

from __future__ import annotations

import uuid
from typing import Any

BATCH = 1000


def move_events_to_order_stream(apps: Any, aggregate_type: str) -> None:
    """Give the stored events of ``aggregate_type`` their order's id as partition key.

    Row by row in batches (the order id is in the JSON payload, which SQLite and PostgreSQL cast
    differently), so it works on both and keeps memory flat on a large log.
    """
    stored_event = apps.get_model("events", "StoredEvent")
    rows = stored_event.objects.filter(aggregate_type=aggregate_type).only("sequence", "payload")
    batch = []
    for row in rows.iterator(chunk_size=BATCH):
        order_id = row.payload.get("order_id")
        if not order_id:
            continue
        row.partition_key = uuid.UUID(str(order_id))
        batch.append(row)
        if len(batch) >= BATCH:
            stored_event.objects.bulk_update(batch, ["partition_key"])
            batch = []
    if batch:
        stored_event.objects.bulk_update(batch, ["partition_key"])
