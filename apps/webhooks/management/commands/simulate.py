"""``manage.py simulate``: drive orders through the HTTP API while the simulator answers, then
count in the database what the run did and report it.

The simulated customers themselves (placing and paying orders, sending the simulator's webhooks)
are in ``apps/webhooks/simulated_orders.py``.
"""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection
from django.db.models import Count, Max

from apps.events.models import StoredEvent
from apps.orders.lifecycle import SETTLED_STATES
from apps.orders.models import Order
from apps.webhooks import simulator
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.simulated_orders import (
    CONNECTION_ERRORS,
    demo_customer_token,
    drive_orders,
    send_until,
)
from core.serving import embedded_base_url

# How long a database read waits for a lost connection to come back before the run gives up on
# the database (the default of --db-patience): about as long as the client's retries.
DB_PATIENCE_SECONDS = 10.0

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
            "--base-url",
            default=None,
            help="the service (default: OMS_SIMULATOR_BASE_URL when set, else the address "
            "`make run` serves, http://$OMS_ADDRESS, itself http://127.0.0.1:8000 by default)",
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
        base_url = (options["base_url"] or default_target()).rstrip("/")
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


def default_target() -> str:
    """The service a run drives without ``--base-url``.

    ``OMS_SIMULATOR_BASE_URL`` names the service when it is set (the simulated providers answer
    there too); otherwise the run goes where ``make run`` serves, which follows ``OMS_ADDRESS``.
    """
    return os.environ.get("OMS_SIMULATOR_BASE_URL") or embedded_base_url()


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
