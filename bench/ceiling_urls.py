"""The product's URLs plus the two ceiling endpoints of figure 2 (bench settings only).

* ``GET /bench/ceiling/no-db/``: a DRF view that touches no database: what the framework,
  the middleware and the server cost by themselves.
* ``POST /bench/ceiling/sql-write/``: one order row, its item rows and one event row inserted with
  raw SQL in one transaction: what the database writes of an order cost with no ORM, no outbox
  and no validation beyond the arithmetic.
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

from apps.events.models import StoredEvent
from apps.orders.models import Order, OrderItem
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
                "aggregate_id, version, payload, metadata, occurred_at) "
                "VALUES (%s, 'OrderCreated', 'order', %s, 1, %s, %s, %s)",
                [
                    uuid.uuid4(),
                    order_id,
                    json.dumps(payload, default=str),
                    json.dumps({"timestamp": moment.isoformat(), "version": 1}),
                    moment,
                ],
            )
        return Response({"id": str(order_id), "total": str(total)}, status=201)


urlpatterns = [
    path("bench/ceiling/no-db/", NoDatabaseView.as_view(), name="bench-ceiling-no-db"),
    path("bench/ceiling/sql-write/", RawSqlWriteView.as_view(), name="bench-ceiling-sql-write"),
    *product_urlpatterns,
]

__all__ = ["handler404", "handler500", "urlpatterns"]
