"""The product's URLs plus the two ceiling endpoints of figure 2 (bench settings only).

* ``GET /bench/ceiling/no-db/``: a DRF view that touches no database: what the framework,
  the middleware and the server cost by themselves.
* ``POST /bench/ceiling/sql-write/``: the rows a create writes, inserted with raw SQL in one
  transaction: the order, its items, one event and the rows of the read models the create keeps
  in its transaction (the order's summary and its first state change). What the database writes
  of an order cost with no ORM and no validation beyond the arithmetic. The event is an
  ``OrderCreated`` (its position given at commit as for any event) and the summary exists, so
  the subscriptions react to these orders as to the API's: the Celery worker has the same work
  during both windows.
"""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.events.models import StoredEvent, bucket_of
from apps.orders.models import Order, OrderItem, OrderStateChange, OrderSummary
from core.urls import handler404, handler500
from core.urls import urlpatterns as product_urlpatterns
from shared import clock


class NoDatabaseView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def get(self, request: Request) -> Response:
        return Response({"status": "ok"})


class RawSqlWriteView(APIView):
    authentication_classes = ()
    permission_classes = (AllowAny,)

    def post(self, request: Request) -> Response:
        body: dict[str, Any] = request.data
        items = body["items"]
        total = sum(
            (Decimal(str(item["unit_price"])) * int(item["quantity"]) for item in items),
            Decimal(0),
        )
        order_id, moment = uuid.uuid4(), clock.now()
        payload = {
            "customer_id": body["customer_id"],
            "currency": body["currency"],
            "total": str(total),
            "items": items,
            "state": "PENDING",
        }
        order_table = Order._meta.db_table
        item_table = OrderItem._meta.db_table
        event_table = StoredEvent._meta.db_table
        event_id = uuid.uuid4()
        quantity = sum(int(item["quantity"]) for item in items)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {order_table} (id, customer_id, state, currency, total, "
                "payment_method, shipping_method, version, created_at, updated_at) "
                "VALUES (%s, %s, 'PENDING', %s, %s, %s, %s, 1, %s, %s)",
                [
                    order_id,
                    body["customer_id"],
                    body["currency"],
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
                "currency, total, item_count, line_count, payment_method, shipping_method, "
                "payment_status, shipment_status, carrier, tracking_number, created_at, "
                "updated_at, order_version, payment_version, shipment_version, last_sequence) "
                "VALUES (%s, %s, 'PENDING', %s, %s, %s, %s, %s, %s, '', '', '', '', %s, %s, 1, 0, "
                "0, %s)",
                [
                    order_id,
                    body["customer_id"],
                    body["currency"],
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
        return Response({"id": str(order_id), "total": str(total)}, status=201)


urlpatterns = [
    path("bench/ceiling/no-db/", NoDatabaseView.as_view(), name="bench-ceiling-no-db"),
    path("bench/ceiling/sql-write/", RawSqlWriteView.as_view(), name="bench-ceiling-sql-write"),
    *product_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
