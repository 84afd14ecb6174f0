"""The peer of figure 1: the ``eventsourcing`` library on the same PostgreSQL server.

An order aggregate is created (its items in the creation event) and saved, then loaded from its
events and paid, and saved again: "creating an order aggregate and recording a payment event".
It uses a database of its own (``<bench database>_peer``), recreated by every full run.
"""

from __future__ import annotations

import getpass
import time
from typing import Any
from urllib.parse import urlparse
from uuid import UUID

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

from bench.workload import item_dicts


class PeerOrder(Aggregate):
    @event("Created")
    def __init__(
        self, customer_id: int, currency: str, items: list[dict[str, Any]], total: str
    ) -> None:
        self.customer_id = customer_id
        self.currency = currency
        self.items = items
        self.total = total
        self.state = "PENDING"
        self.payment_reference = ""

    @event("Paid")
    def pay(self, payment_reference: str) -> None:
        self.state = "PAID"
        self.payment_reference = payment_reference


class PeerOrders(Application[UUID]):
    def create_order(self, customer_id: int, items: list[dict[str, Any]]) -> UUID:
        order = PeerOrder(customer_id, "EUR", items, "37.50")
        self.save(order)
        return order.id

    def pay_order(self, order_id: UUID, reference: str) -> None:
        order: PeerOrder = self.repository.get(order_id)
        order.pay(reference)
        self.save(order)


def open_peer(database_url: str) -> PeerOrders:
    parsed = urlparse(database_url)
    return PeerOrders(
        env={
            "PERSISTENCE_MODULE": "eventsourcing.postgres",
            "POSTGRES_DBNAME": parsed.path.lstrip("/"),
            "POSTGRES_HOST": parsed.hostname or "127.0.0.1",
            "POSTGRES_PORT": str(parsed.port or 5432),
            "POSTGRES_USER": parsed.username or getpass.getuser(),
            "POSTGRES_PASSWORD": parsed.password or "",
            "CREATE_TABLE": "y",
        }
    )


def measure(
    app: PeerOrders, seconds: float, max_orders: int, *, items: int, pay: bool
) -> tuple[float, int]:
    """Orders per second over one timed run, and the events written."""
    lines = item_dicts(items)
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while done < max_orders and time.perf_counter() < deadline:
        order_id = app.create_order(1, lines)
        if pay:
            app.pay_order(order_id, f"ref-{done}")
        done += 1
    elapsed = time.perf_counter() - started
    return done / elapsed, done * (2 if pay else 1)
