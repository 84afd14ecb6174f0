"""Simulated customers for ``manage.py simulate``: place and pay orders over the HTTP API, and
send the simulated providers' due webhooks meanwhile.

The load side of a simulation run, kept apart from the command that counts and reports what the
run did in the database.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from io import StringIO
from typing import Any

import httpx
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from rest_framework.authtoken.models import Token

from apps.webhooks import simulator
from core.management.commands.bootstrap_demo import DEMO_USERS

PRODUCTS = (
    ("BOOK-1", "A book", "12.50"),
    ("PEN-1", "A pen", "1.99"),
    ("MUG-1", "A mug", "8.00"),
    ("LAMP-1", "A lamp", "34.90"),
)
# A client retries a failed request (idempotency keys make that safe) for about 10 s in all: long
# enough to ride out a web server that is restarted.
RETRIES = 8
# What a terminated connection, a restarting server or an unreachable one raises.
CONNECTION_ERRORS = (OperationalError, InterfaceError)


def demo_customer_token() -> str:
    """The demo customer's API token, creating the demo users first if they are missing."""
    call_command("bootstrap_demo", stdout=StringIO())
    username = next(name for name, _email, is_staff in DEMO_USERS if not is_staff)
    user = get_user_model().objects.get(username=username)
    return Token.objects.get(user=user).key


def send_until(stop: threading.Event, base_url: str) -> None:
    """Send due simulated webhooks until ``stop`` is set (runs in its own thread)."""
    try:
        while not stop.is_set():
            try:
                report = simulator.send_due_webhooks(base_url=base_url)
            except CONNECTION_ERRORS:
                # The database is gone for now: keep trying on a new connection until the run
                # stops (the main thread gives up on a database that stays away). A batch claimed
                # but not recorded is due again when its lease ends; a copy the server already
                # processed is then absorbed as a duplicate.
                connection.close()
                stop.wait(0.5)
                continue
            if report.attempted == 0:
                stop.wait(0.05)
            close_old_connections()
    finally:
        connection.close()


def drive_orders(
    base_url: str,
    token: str,
    *,
    count: int,
    concurrency: int,
    seed: int,
    methods: list[str],
    run_id: str,
    errors: list[str],
) -> list[uuid.UUID]:
    """Create and pay ``count`` orders from ``concurrency`` threads; returns the created ids."""
    headers = {"Authorization": f"Token {token}"}
    with (
        httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as client,
        ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="simulate") as pool,
    ):
        results = list(
            pool.map(
                lambda n: place_and_pay(client, n, seed=seed, methods=methods, run_id=run_id),
                range(count),
            )
        )
    order_ids = []
    for result in results:
        if isinstance(result, uuid.UUID):
            order_ids.append(result)
        else:
            errors.append(result)
    return order_ids


def place_and_pay(
    client: httpx.Client, number: int, *, seed: int, methods: list[str], run_id: str
) -> uuid.UUID | str:
    """Create one order and pay it; returns its id, or what went wrong."""
    try:
        return _place_and_pay(client, number, seed=seed, methods=methods, run_id=run_id)
    except httpx.HTTPError as exc:
        return f"order {number}: {type(exc).__name__}: {exc}"


def _place_and_pay(
    client: httpx.Client, number: int, *, seed: int, methods: list[str], run_id: str
) -> uuid.UUID | str:
    choose = random.Random(f"{seed}:{number}")
    items = [
        {"sku": sku, "name": name, "quantity": choose.randint(1, 3), "unit_price": price}
        for sku, name, price in choose.sample(PRODUCTS, choose.randint(1, 3))
    ]
    body = {
        "currency": "EUR",
        "payment_method": choose.choice(methods),
        "shipping_method": choose.choice(["standard", "express"]),
        "items": items,
    }
    created = _post(client, "/api/v1/orders/", body, key=f"simulate-{run_id}-{number}-create")
    if created.status_code != 201:
        return f"order {number}: create answered {created.status_code}: {created.text[:200]}"
    order_id = uuid.UUID(created.json()["id"])
    paid = _post(
        client, f"/api/v1/orders/{order_id}/pay/", {}, key=f"simulate-{run_id}-{number}-pay"
    )
    if paid.status_code != 202:
        return f"order {order_id}: pay answered {paid.status_code}: {paid.text[:200]}"
    return order_id


def _post(client: httpx.Client, path: str, body: dict[str, Any], *, key: str) -> httpx.Response:
    """POST with an idempotency key, retried on transport errors and retryable answers (5xx,
    409 while a twin is in flight, 429 after the Retry-After the service asked for)."""
    for attempt in range(1, RETRIES + 1):
        pause = min(2.0, 0.25 * attempt)
        try:
            response = client.post(path, json=body, headers={"Idempotency-Key": key})
        except httpx.TransportError:
            if attempt == RETRIES:
                raise
        else:
            if response.status_code < 500 and response.status_code not in {409, 429}:
                return response
            if attempt == RETRIES:
                return response
            if response.status_code == 429:
                pause = min(5.0, float(response.headers.get("Retry-After") or 1))
        time.sleep(pause)
    raise AssertionError("unreachable")
