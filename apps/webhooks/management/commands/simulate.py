"""``manage.py simulate``: drive orders through the HTTP API while the simulator answers."""

from __future__ import annotations

import json
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, TypeVar

import httpx
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.db.models import Count, Max
from rest_framework.authtoken.models import Token

from apps.events.models import StoredEvent
from apps.orders.lifecycle import SETTLED_STATES
from apps.orders.models import Order
from apps.webhooks import simulator
from apps.webhooks.models import WebhookLog, WebhookOutcome
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
# How long a database read waits for a lost connection to come back before the run gives up on
# the database (the default of --db-patience): about as long as the client's retries.
DB_PATIENCE_SECONDS = 10.0
# What a terminated connection, a restarting server or an unreachable one raises.
CONNECTION_ERRORS = (OperationalError, InterfaceError)

T = TypeVar("T")


class DatabaseLost(Exception):
    """The database stayed unreachable for longer than the run's patience."""


@dataclass
class RunSummary:
    """What one run did, counted in the database."""

    orders: int
    states: dict[str, int]
    events: int
    webhooks: dict[str, int]
    rejected: int
    wall_seconds: float
    errors: list[str] = field(default_factory=list)

    @property
    def terminal(self) -> int:
        return sum(count for state, count in self.states.items() if state in SETTLED_STATES)

    @property
    def orders_per_second(self) -> float:
        return self.terminal / self.wall_seconds if self.wall_seconds > 0 else 0.0

    def lines(self) -> list[str]:
        lines = ["orders by final state:"]
        lines += [f"  {state}: {count}" for state, count in sorted(self.states.items())]
        lines += [
            f"orders not terminal: {self.orders - self.terminal}",
            f"events written: {self.events}",
            f"webhooks processed: {self.webhooks.get(WebhookOutcome.PROCESSED, 0)}",
            f"webhooks ignored (stale): {self.webhooks.get(WebhookOutcome.IGNORED, 0)}",
            f"webhooks failed: {self.webhooks.get(WebhookOutcome.FAILED, 0)}",
            f"webhook duplicates absorbed: {self.webhooks.get(WebhookOutcome.DUPLICATE, 0)}",
            f"webhooks rejected: {self.rejected}",
            f"wall time: {self.wall_seconds:.2f} s",
            f"orders per second: {self.orders_per_second:.2f}",
        ]
        lines += [f"error: {error}" for error in self.errors]
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "orders": self.orders,
            "states": self.states,
            "events": self.events,
            "webhooks": self.webhooks,
            "rejected": self.rejected,
            "wall_seconds": round(self.wall_seconds, 3),
            "orders_per_second": round(self.orders_per_second, 3),
            "errors": self.errors,
        }


class Command(BaseCommand):
    help = (
        "Create and pay N orders over the HTTP API as the demo customer, let the simulated payment "
        "provider and carrier answer with webhooks, wait until every order is terminal (or the "
        "timeout passes) and print what happened, counted in the database. The server at "
        "--base-url must run with OMS_SIMULATOR_ENABLED (the default while DEBUG is on) and share "
        "this command's database. Unless --no-sender is given, this command also sends the due "
        "simulated webhooks itself, from a thread, so no `manage.py worker` is needed; with a "
        "worker running as well (as under `make run`) the two share the work without sending a "
        "message twice."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--orders", type=int, required=True, help="how many orders")
        parser.add_argument("--concurrency", type=int, default=4, help="parallel API clients")
        parser.add_argument(
            "--seed",
            type=int,
            default=0,
            help="seeds the orders' items and methods (the simulated providers' own decisions "
            "follow OMS_SIMULATOR_SEED where they run)",
        )
        parser.add_argument(
            "--base-url", default=None, help="the service (default OMS_SIMULATOR_BASE_URL)"
        )
        parser.add_argument(
            "--timeout", type=float, default=120.0, help="seconds to wait for terminal states"
        )
        parser.add_argument(
            "--payment-methods",
            default="card,wallet,bank_transfer",
            help="comma-separated methods to pick from",
        )
        parser.add_argument(
            "--no-sender",
            action="store_true",
            help="do not send due simulated webhooks from this command (a worker does it)",
        )
        parser.add_argument(
            "--db-patience",
            type=float,
            default=DB_PATIENCE_SECONDS,
            help="seconds to keep reconnecting to a lost database before giving up on the run",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["orders"]
        if count < 1:
            raise CommandError("--orders must be at least 1")
        base_url = (options["base_url"] or settings.OMS_SIMULATOR_BASE_URL).rstrip("/")
        methods = [m.strip() for m in options["payment_methods"].split(",") if m.strip()]
        if not simulator.enabled():
            self.stderr.write(
                "warning: OMS_SIMULATOR_ENABLED is off here; the server must have it on or no "
                "provider will answer."
            )
        patience: float = options["db_patience"]
        try:
            # bootstrap_demo is idempotent: running it again after a lost connection is safe.
            token = reconnecting(demo_customer_token, patience=patience)
            log_mark = reconnecting(
                lambda: WebhookLog.objects.aggregate(last=Max("id"))["last"] or 0,
                patience=patience,
            )
        except DatabaseLost as exc:
            raise CommandError(f"cannot reach the database: {exc}") from exc
        run_id = uuid.uuid4().hex[:12]
        started = time.monotonic()

        stop = threading.Event()
        sender = None
        if not options["no_sender"]:
            sender = threading.Thread(
                target=send_until, args=(stop, base_url), name="simulate-sender", daemon=True
            )
            sender.start()
        errors: list[str] = []
        order_ids: list[uuid.UUID] = []
        # The last summary counted: what is printed if the database is lost for good afterwards.
        summary: RunSummary | None = None

        def tally() -> RunSummary:
            nonlocal summary
            wall = time.monotonic() - started
            summary = reconnecting(
                lambda: summarize(order_ids, log_mark=log_mark, wall_seconds=wall, errors=errors),
                patience=patience,
            )
            return summary

        lost = False
        try:
            try:
                order_ids = drive_orders(
                    base_url,
                    token,
                    count=count,
                    concurrency=max(1, options["concurrency"]),
                    seed=options["seed"],
                    methods=methods,
                    run_id=run_id,
                    errors=errors,
                )
                wait_until_terminal(tally, deadline=started + options["timeout"])
            finally:
                stop.set()
                if sender is not None:
                    sender.join(timeout=30)
            tally()  # once more after the sender stopped: what it sent last is counted too
        except DatabaseLost as exc:
            lost = True
            errors.append(f"lost the database, no connection for {patience:g} s: {exc}")

        if options["json"]:
            report = summary.as_dict() if summary else {"orders": len(order_ids), "errors": errors}
            self.stdout.write(json.dumps(report, indent=2))
        else:
            self.stdout.write(
                f"simulated {count} orders against {base_url} "
                f"(concurrency {options['concurrency']}, seed {options['seed']})"
            )
            for line in summary.lines() if summary else [f"error: {e}" for e in errors]:
                self.stdout.write(line)
        if lost:
            raise CommandError(
                "the database was lost during the run: the counts above are the last ones read"
            )
        assert summary is not None  # counted after the run, or the database was lost
        stuck = summary.orders - summary.terminal
        if stuck or len(order_ids) < count:
            raise CommandError(
                f"{len(order_ids)} of {count} orders were placed and {stuck} are not terminal "
                f"after {options['timeout']:.0f} s"
            )


def demo_customer_token() -> str:
    """The demo customer's API token, creating the demo users first if they are missing."""
    call_command("bootstrap_demo", stdout=StringIO())
    username = next(name for name, _email, is_staff in DEMO_USERS if not is_staff)
    user = get_user_model().objects.get(username=username)
    return Token.objects.get(user=user).key


def reconnecting(read: Callable[[], T], *, patience: float) -> T:
    """``read()``, run again on a new connection while the database is lost, for ``patience`` s.

    A connection the server dropped (``pg_terminate_backend``, a restart) fails every later query:
    Django replaces a broken connection only around a request, which a command never is, so it is
    closed here and the next query opens a new one. The pauses grow (to 2 s) to ride out a
    restart without hammering the server.
    """
    give_up = time.monotonic() + patience
    pause = 0.1
    while True:
        try:
            return read()
        except CONNECTION_ERRORS as exc:
            connection.close()
            if time.monotonic() + pause > give_up:
                raise DatabaseLost(f"{type(exc).__name__}: {exc}".strip()) from exc
            time.sleep(pause)
            pause = min(2.0, pause * 2)


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


def wait_until_terminal(count: Callable[[], RunSummary], *, deadline: float) -> None:
    """Count the run's summary every 0.2 s until every order is terminal or ``deadline`` passes.

    Counting the whole summary (not just the orders still open) keeps a recent one at hand for
    the report if the database is lost for good.
    """
    while time.monotonic() < deadline:
        summary = count()
        if summary.terminal == summary.orders:
            return
        time.sleep(0.2)


def summarize(
    order_ids: list[uuid.UUID], *, log_mark: int, wall_seconds: float, errors: list[str]
) -> RunSummary:
    """Count the run's results in the database (orders, their aggregates' events, webhooks)."""
    states = dict(
        Order.objects.filter(id__in=order_ids)
        .order_by()
        .values("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    # Every event about an order (its payment's and shipment's too) has the order's id as
    # partition key.
    events = StoredEvent.objects.filter(partition_key__in=order_ids).count()
    webhooks = Counter(
        dict(
            WebhookLog.objects.filter(order_id__in=order_ids)
            .order_by()
            .values("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
    )
    rejected = WebhookLog.objects.filter(id__gt=log_mark, outcome=WebhookOutcome.REJECTED).count()
    return RunSummary(
        orders=len(order_ids),
        states=states,
        events=events,
        webhooks=dict(webhooks),
        rejected=rejected,
        wall_seconds=wall_seconds,
        errors=errors,
    )
