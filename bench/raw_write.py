"""The rows a create writes, in raw SQL: the floor under ``OrderService.create_order``.

One transaction with the order, its items, one ``OrderCreated`` event (its position given at
commit as for any event) and the read models' rows the create keeps in its transaction (the
order's summary and its first state change): what the database part of a create costs with no
ORM and no validation beyond the arithmetic. Figure 1 times it in-process beside the service
(the like-for-like floor of a create) and figure 2 serves it as the raw-SQL write ceiling.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, transaction

from apps.events.models import StoredEvent, bucket_of
from apps.orders.models import Order, OrderItem, OrderStateChange, OrderSummary
from shared import clock


def shipping_of(method: str, units: int, subtotal: Decimal) -> Decimal:
    """The shipping strategies' table rates in plain arithmetic (2-decimal currencies)."""
    if method == "express":
        return Decimal("14.90") + Decimal("1.50") * (units - 1)
    if subtotal >= 50:
        return Decimal("0.00")
    return Decimal("4.90") + Decimal("0.50") * (units - 1)


def write_order(body: dict[str, Any]) -> tuple[uuid.UUID, Decimal]:
    """Write an order of ``body`` (the API's create body plus ``customer_id``): its id and total."""
    items = body["items"]
    subtotal = sum(
        (Decimal(str(item["unit_price"])) * int(item["quantity"]) for item in items),
        Decimal(0),
    )
    quantity = sum(int(item["quantity"]) for item in items)
    shipping = shipping_of(body.get("shipping_method", "standard"), quantity, subtotal)
    total = subtotal + shipping
    order_id, moment = uuid.uuid4(), clock.now()
    payload = {
        "customer_id": body["customer_id"],
        "currency": body["currency"],
        "subtotal": str(subtotal),
        "shipping_total": str(shipping),
        "total": str(total),
        "items": items,
        "state": "PENDING",
    }
    order_table = Order._meta.db_table
    item_table = OrderItem._meta.db_table
    event_table = StoredEvent._meta.db_table
    event_id = uuid.uuid4()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {order_table} (id, customer_id, state, currency, subtotal, "
            "shipping_total, total, payment_method, shipping_method, version, created_at, "
            "updated_at) VALUES (%s, %s, 'PENDING', %s, %s, %s, %s, %s, %s, 1, %s, %s)",
            [
                order_id,
                body["customer_id"],
                body["currency"],
                subtotal,
                shipping,
                total,
                body.get("payment_method", "card"),
                body.get("shipping_method", "standard"),
                moment,
                moment,
            ],
        )
        cursor.executemany(
            f"INSERT INTO {item_table} (order_id, position, sku, name, quantity, "
            "unit_price) VALUES (%s, %s, %s, %s, %s, %s)",
            [
                (order_id, position, i["sku"], i["name"], i["quantity"], i["unit_price"])
                for position, i in enumerate(items)
            ],
        )
        cursor.execute(
            f"INSERT INTO {event_table} (event_id, event_type, aggregate_type, "
            "aggregate_id, partition_key, bucket, version, payload, metadata, occurred_at) "
            "VALUES (%s, 'OrderCreated', 'order', %s, %s, %s, 1, %s, %s, %s) "
            "RETURNING sequence",
            [
                event_id,
                order_id,
                order_id,
                bucket_of(order_id),
                json.dumps(payload, default=str),
                json.dumps({"timestamp": moment.isoformat(), "version": 1}),
                moment,
            ],
        )
        sequence = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {OrderSummary._meta.db_table} (order_id, customer_id, state, "
            "currency, subtotal, shipping_total, total, refunded_total, item_count, line_count, "
            "payment_method, shipping_method, payment_status, shipment_status, carrier, "
            "tracking_number, created_at, updated_at, order_version, payment_version, "
            "shipment_version, last_sequence) "
            "VALUES (%s, %s, 'PENDING', %s, %s, %s, %s, 0, %s, %s, %s, %s, '', '', '', '', %s, "
            "%s, 1, 0, 0, %s)",
            [
                order_id,
                body["customer_id"],
                body["currency"],
                subtotal,
                shipping,
                total,
                quantity,
                len(items),
                body.get("payment_method", "card"),
                body.get("shipping_method", "standard"),
                moment,
                moment,
                sequence,
            ],
        )
        cursor.execute(
            f"INSERT INTO {OrderStateChange._meta.db_table} (event_id, order_id, sequence, "
            "event_type, from_state, to_state, at, actor, reason) "
            "VALUES (%s, %s, %s, 'OrderCreated', NULL, 'PENDING', %s, NULL, '')",
            [event_id, order_id, sequence, moment],
        )
    return order_id, total
