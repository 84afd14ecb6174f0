"""``manage.py simulate`` against a live server: every order terminal, a summary that is true."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.events.models import StoredEvent
from apps.events.subscriptions import run_until_idle
from apps.orders.models import Order
from apps.webhooks.models import SimulatedWebhook, WebhookLog, WebhookOutcome

ORDERS = 200
DELIVERED_PATH = [
    "OrderCreated",
    "OrderPaid",
    "OrderProcessingStarted",
    "OrderShipped",
    "OrderDelivered",
]
FAILED_PATH = ["OrderCreated", "PaymentFailed"]


@pytest.fixture
def fast_simulator(settings: Any) -> Any:
    settings.OMS_SIMULATOR_ENABLED = True
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 0.05
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 0.3
    settings.OMS_SIMULATOR_APPROVAL_RATE = 0.85
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 0.1
    settings.OMS_SIMULATOR_REORDER_RATE = 0.2
    settings.OMS_SIMULATOR_SEND_CONCURRENCY = 8
    return settings


def parse_summary(output: str) -> dict[str, Any]:
    """The printed summary: ``label: value`` lines; states indented under their heading."""
    states: dict[str, int] = {}
    values: dict[str, str] = {}
    for line in output.splitlines():
        if match := re.fullmatch(r"  ([A-Z]+): (\d+)", line):
            states[match[1]] = int(match[2])
        elif match := re.fullmatch(r"([a-z][a-z ()]+): (.+)", line):
            values[match[1]] = match[2]
    return {"states": states, **values}


@pytest.fixture
def worker_thread(settings: Any) -> Iterator[None]:
    """The reactions run as in production: by a runner beside the server, not by the requests."""
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    stop = threading.Event()

    def loop() -> None:
        try:
            while not stop.is_set():
                if run_until_idle(max_batches=50, until_idle=False) == 0:
                    stop.wait(0.05)
        finally:
            connection.close()

    thread = threading.Thread(target=loop, name="worker")
    thread.start()
    yield
    stop.set()
    thread.join(timeout=30)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_simulating_200_orders_ends_terminal_with_a_summary_that_matches_the_database(
    live_server: Any, fast_simulator: Any, worker_thread: None
) -> None:
    out = StringIO()
    call_command(
        "simulate",
        orders=ORDERS,
        concurrency=8,
        seed=7,
        base_url=live_server.url,
        timeout=180,
        stdout=out,
    )
    print(out.getvalue())  # shown by pytest when the test fails, and with -s
    summary = parse_summary(out.getvalue())

    orders = Order.objects.filter(customer__username="demo-customer")
    states = Counter(orders.values_list("state", flat=True))
    assert sum(states.values()) == ORDERS
    # Card and bank transfer approvals, wallet approvals, declines and rejections: no order is
    # left half-way, and none went anywhere but forward.
    assert set(states) <= {"DELIVERED", "FAILED"}
    assert states["DELIVERED"] > 0
    assert states["FAILED"] > 0
    assert summary["states"] == dict(states)
    assert summary["orders not terminal"] == "0"

    # The database holds only this run, so the summary's counts are the tables' counts.
    assert int(summary["events written"]) == StoredEvent.objects.count()
    logged = Counter(WebhookLog.objects.values_list("outcome", flat=True))
    assert int(summary["webhooks processed"]) == logged[WebhookOutcome.PROCESSED]
    assert int(summary["webhooks ignored (stale)"]) == logged[WebhookOutcome.IGNORED]
    assert int(summary["webhooks failed"]) == logged[WebhookOutcome.FAILED] == 0
    assert int(summary["webhook duplicates absorbed"]) == logged[WebhookOutcome.DUPLICATE]
    assert int(summary["webhooks rejected"]) == logged[WebhookOutcome.REJECTED] == 0
    assert float(summary["orders per second"]) > 0
    assert float(summary["wall time"].removesuffix(" s")) > 0

    # Every simulated message went out once and was answered 200; each second copy was absorbed
    # as a duplicate, and each reordered shipping report came in late and was ignored.
    sent = SimulatedWebhook.objects.all()
    assert set(sent.values_list("attempts", "last_status")) == {(1, 200)}
    assert logged[WebhookOutcome.DUPLICATE] == sent.filter(copy=1).count() > 0
    assert logged[WebhookOutcome.IGNORED] > 0
    assert set(
        WebhookLog.objects.filter(outcome=WebhookOutcome.IGNORED).values_list(
            "message_type", flat=True
        )
    ) == {"shipment.shipped"}

    # Each order's own events tell one story, in order.
    for order in orders:
        path = list(
            StoredEvent.objects.filter(aggregate_id=order.id)
            .order_by("version")
            .values_list("event_type", flat=True)
        )
        assert path == (DELIVERED_PATH if order.state == "DELIVERED" else FAILED_PATH), order.id


@pytest.mark.django_db
def test_simulate_needs_at_least_one_order() -> None:
    with pytest.raises(CommandError, match="at least 1"):
        call_command("simulate", orders=0)
