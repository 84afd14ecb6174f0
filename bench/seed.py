"""Bulk seeding for figure 4: orders, their items and their events, with PostgreSQL's COPY.

Rows go straight into the tables, the way the service would have written them: each order's
events follow its state (PENDING: OrderCreated; DELIVERED: created, paid, processing, shipped,
delivered; ...), so the events and history endpoints have real work to do. Columns are taken from
the models, and a column added later is filled with its model default, so the seeder keeps up with
the schema. Outbox rows are not written: the seeded history counts as delivered long ago.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

PATHS: dict[str, list[str]] = {
    "PENDING": [],
    "PAID": ["PAID"],
    "PROCESSING": ["PAID", "PROCESSING"],
    "SHIPPED": ["PAID", "PROCESSING", "SHIPPED"],
    "DELIVERED": ["PAID", "PROCESSING", "SHIPPED", "DELIVERED"],
    "CANCELLED": ["CANCELLED"],
    "FAILED": ["FAILED"],
}
# One order in ten of each state mix; DELIVERED is the most common, as in a live shop.
STATE_CYCLE = [
    "DELIVERED",
    "SHIPPED",
    "PROCESSING",
    "PAID",
    "PENDING",
    "DELIVERED",
    "CANCELLED",
    "DELIVERED",
    "FAILED",
    "DELIVERED",
]
EVENT_OF_TARGET = {
    "PAID": "OrderPaid",
    "PROCESSING": "OrderProcessingStarted",
    "SHIPPED": "OrderShipped",
    "DELIVERED": "OrderDelivered",
    "CANCELLED": "OrderCancelled",
    "FAILED": "PaymentFailed",
}
PRICE = Decimal("12.50")


class Columns:
    """A model's columns for COPY, with the values for the ones the seeder does not know."""

    def __init__(self, model: Any, connection: Any) -> None:
        self.table = model._meta.db_table
        self.fields = [
            f
            for f in model._meta.concrete_fields
            if f.get_internal_type() not in ("AutoField", "BigAutoField")
        ]
        self.names = [f.column for f in self.fields]
        self.connection = connection

    def row(self, values: dict[str, Any]) -> tuple[Any, ...]:
        out = []
        for f in self.fields:
            if f.attname in values:
                out.append(values[f.attname])
            elif f.has_default() or f.null:
                out.append(f.get_db_prep_save(f.get_default(), self.connection))
            else:
                raise RuntimeError(
                    f"cannot seed {self.table}.{f.column}: the seeder does not know it and it "
                    "has no default; teach bench/seed.py about it"
                )
        return tuple(out)

    def copy_sql(self) -> str:
        quote = self.connection.ops.quote_name
        return f"COPY {quote(self.table)} ({', '.join(quote(n) for n in self.names)}) FROM STDIN"


def _payload_created(customer_id: int, items: list[dict[str, Any]], total: Decimal) -> str:
    return json.dumps(
        {
            "customer_id": customer_id,
            "currency": "EUR",
            "total": str(total),
            "items": items,
            "state": "PENDING",
            "payment_method": "card",
            "shipping_method": "standard",
        }
    )


def _payload_transition(source: str, target: str, total: Decimal) -> str:
    payload: dict[str, Any] = {"from_state": source, "to_state": target}
    if target == "PAID":
        payload.update(amount=str(total), currency="EUR", payment_reference="seed")
    elif target == "SHIPPED":
        payload.update(carrier="DHL", tracking_number="SEED")
    elif target in ("CANCELLED", "FAILED"):
        payload.update(reason="seeded")
    return json.dumps(payload)


def seed_orders(
    start: int, count: int, customer_ids: list[int], epoch: datetime
) -> Iterator[tuple[str, int]]:
    """Insert orders ``start`` .. ``start + count - 1``; yields progress (table, rows so far).

    Order ``i`` belongs to ``customer_ids[i % len(customer_ids)]``, is created ``i`` seconds after
    ``epoch`` (so newer orders have higher ``i``) and has ``1 + i % 5`` items.
    """
    from django.db import connection

    from apps.events.models import StoredEvent, bucket_of
    from apps.orders.models import Order, OrderItem

    orders = Columns(Order, connection)
    items = Columns(OrderItem, connection)
    events = Columns(StoredEvent, connection)
    plan = []
    for i in range(start, start + count):
        lines: list[dict[str, Any]] = [
            {"sku": f"SKU-{n}", "name": f"Item {n}", "quantity": 1 + n % 3, "unit_price": "12.50"}
            for n in range(1 + i % 5)
        ]
        total = sum((PRICE * line["quantity"] for line in lines), Decimal(0))
        state = STATE_CYCLE[i % len(STATE_CYCLE)]
        created = epoch + timedelta(seconds=i)
        plan.append(
            (uuid.uuid4(), customer_ids[i % len(customer_ids)], lines, total, state, created)
        )

    with connection.cursor() as wrapper:
        cursor = wrapper.cursor
        with cursor.copy(orders.copy_sql()) as copy:
            for order_id, customer_id, _lines, total, state, created in plan:
                steps = PATHS[state]
                copy.write_row(
                    orders.row(
                        {
                            "id": order_id,
                            "customer_id": customer_id,
                            "state": state,
                            "currency": "EUR",
                            # Seeded as orders from before shipping was charged (events
                            # without a subtotal): the lines are the total.
                            "subtotal": total,
                            "shipping_total": Decimal(0),
                            "total": total,
                            "payment_method": "card",
                            "shipping_method": "standard",
                            "version": 1 + len(steps),
                            "created_at": created,
                            "updated_at": created + timedelta(minutes=len(steps)),
                        }
                    )
                )
        yield orders.table, len(plan)
        written = 0
        with cursor.copy(items.copy_sql()) as copy:
            for order_id, _customer, lines, _total, _state, _created in plan:
                for position, line in enumerate(lines):
                    copy.write_row(
                        items.row(
                            {
                                "order_id": order_id,
                                "position": position,
                                "sku": line["sku"],
                                "name": line["name"],
                                "quantity": line["quantity"],
                                "unit_price": PRICE,
                            }
                        )
                    )
                    written += 1
        yield items.table, written
        written = 0
        with cursor.copy(events.copy_sql()) as copy:
            for order_id, customer_id, lines, total, state, created in plan:
                source = "PENDING"
                entries = [("OrderCreated", _payload_created(customer_id, lines, total))]
                for target in PATHS[state]:
                    entries.append(
                        (EVENT_OF_TARGET[target], _payload_transition(source, target, total))
                    )
                    source = target
                for version, (event_type, payload) in enumerate(entries, start=1):
                    moment = created + timedelta(minutes=version - 1)
                    copy.write_row(
                        events.row(
                            {
                                "event_id": uuid.uuid4(),
                                "event_type": event_type,
                                "aggregate_type": "order",
                                "aggregate_id": order_id,
                                # An order's events are its own stream (DomainEvent's default).
                                "partition_key": order_id,
                                "bucket": bucket_of(order_id),
                                "version": version,
                                "payload": payload,
                                "metadata": json.dumps(
                                    {
                                        "user_id": customer_id if version == 1 else None,
                                        "timestamp": moment.isoformat(),
                                        "version": version,
                                        "correlation_id": str(order_id),
                                        "causation_id": None,
                                    }
                                ),
                                "idempotency_key": None,
                                "occurred_at": moment,
                            }
                        )
                    )
                    written += 1
        yield events.table, written
        cursor.execute(f"ANALYZE {orders.table}, {items.table}, {events.table}")
