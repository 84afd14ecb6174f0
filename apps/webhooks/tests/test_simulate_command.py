"""``manage.py simulate`` against a live server: every order terminal, a summary that is true."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.events.models import StoredEvent
from apps.events.subscriptions import run_until_idle
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.webhooks.models import SimulatedWebhook, WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import PAYMENT_SECRET, SHIPPING_SECRET

ROOT = Path(__file__).resolve().parents[3]
# The application_name of the connections of a command run in its own process: a test terminates
# those, and only those.
SIMULATE_APP = "oms-simulate-under-test"

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


@pytest.mark.parametrize("named_by", ["OMS_ADDRESS", "OMS_SIMULATOR_BASE_URL"])
@pytest.mark.django_db(transaction=True)
def test_without_a_base_url_the_run_goes_to_the_service_the_environment_names(
    live_server: Any, settings: Any, monkeypatch: pytest.MonkeyPatch, named_by: str
) -> None:
    # OMS_ADDRESS is where `make run` serves; OMS_SIMULATOR_BASE_URL, when set, comes first.
    if named_by == "OMS_ADDRESS":
        monkeypatch.setenv("OMS_ADDRESS", live_server.url.removeprefix("http://"))
        monkeypatch.delenv("OMS_SIMULATOR_BASE_URL", raising=False)
    else:
        monkeypatch.setenv("OMS_ADDRESS", "127.0.0.1:9")  # the discard port: nothing answers
        monkeypatch.setenv("OMS_SIMULATOR_BASE_URL", live_server.url)
    settings.OMS_SIMULATOR_ENABLED = False  # no provider answers: the run ends at its timeout
    out = StringIO()
    with pytest.raises(CommandError, match="1 of 1 orders were placed and 1 are not terminal"):
        call_command("simulate", orders=1, no_sender=True, timeout=0, stdout=out, stderr=StringIO())
    assert out.getvalue().startswith(f"simulated 1 orders against {live_server.url} ")
    # The order was placed and paid through that server's API.
    order = Order.objects.get(customer__username="demo-customer")
    assert Payment.objects.filter(order_id=order.id).exists()


def start_simulate(base_url: str, *args: str) -> subprocess.Popen[str]:
    """``manage.py simulate`` in a process of its own, on the test database, as it runs for real."""
    db = connection.settings_dict
    user = f"{db['USER']}@" if db.get("USER") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{user}{host}:{port}/{db['NAME']}"
        f"?application_name={SIMULATE_APP}",
        "OMS_SIMULATOR_ENABLED": "1",
        # The command signs what it sends with the secrets the live server checks (this
        # directory's conftest).
        "OMS_WEBHOOK_SECRETS_PAYMENT": PAYMENT_SECRET,
        "OMS_WEBHOOK_SECRETS_SHIPPING": SHIPPING_SECRET,
        "OMS_SIMULATOR_SEND_CONCURRENCY": "8",
        # A batch claimed on a connection that is then cut goes out when its lease (3 x this + 5 s)
        # ends: short, to keep such a test quick.
        "OMS_SIMULATOR_HTTP_TIMEOUT_SECONDS": "1",
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", "simulate", "--base-url", base_url, *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], *, timeout: float) -> tuple[str, str]:
    """The process's output once it ended (killed if it outlives ``timeout``)."""
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
        pytest.fail(f"simulate did not end in {timeout} s:\n{out}\n{err}")
    print(out, err)  # shown by pytest when the test fails, and with -s
    return out, err


def wait_for(condition: Callable[[], bool], what: str, *, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


def simulate_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [SIMULATE_APP]
        )
        return int(cursor.fetchone()[0])


def terminate_simulate_connections() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = %s",
            [SIMULATE_APP],
        )
        return sum(1 for (done,) in cursor.fetchall() if done)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_whose_connections_are_terminated_reconnects_and_prints_a_true_summary(
    live_server: Any, fast_simulator: Any, worker_thread: None
) -> None:
    orders = 20
    process = start_simulate(
        live_server.url, "--orders", str(orders), "--concurrency", "4", "--seed", "3"
    )
    try:
        # Orders coming in: the command has its connections open (the main thread's, which read
        # the demo user and will poll and count, and the sender's) and has not counted yet.
        wait_for(
            lambda: Order.objects.exists() and simulate_connections() >= 2,
            "the command's first orders",
        )
        assert terminate_simulate_connections() >= 2
        assert process.poll() is None
    finally:
        out, err = finish(process, timeout=60)

    assert process.returncode == 0
    assert "Traceback" not in err
    summary = parse_summary(out)
    states = Counter(
        Order.objects.filter(customer__username="demo-customer").values_list("state", flat=True)
    )
    assert sum(states.values()) == orders
    assert set(states) <= {"DELIVERED", "FAILED"}
    assert summary["states"] == dict(states)
    assert summary["orders not terminal"] == "0"
    assert int(summary["events written"]) == StoredEvent.objects.count()
    logged = Counter(WebhookLog.objects.values_list("outcome", flat=True))
    assert int(summary["webhooks processed"]) == logged[WebhookOutcome.PROCESSED] > 0
    assert int(summary["webhooks ignored (stale)"]) == logged[WebhookOutcome.IGNORED]
    assert int(summary["webhooks failed"]) == logged[WebhookOutcome.FAILED] == 0
    assert int(summary["webhook duplicates absorbed"]) == logged[WebhookOutcome.DUPLICATE]
    assert int(summary["webhooks rejected"]) == logged[WebhookOutcome.REJECTED] == 0
    assert "error" not in summary


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_run_that_loses_the_database_for_good_prints_its_last_summary_and_fails(
    live_server: Any, settings: Any
) -> None:
    import psycopg
    from psycopg import sql

    settings.OMS_SIMULATOR_ENABLED = False  # no provider answers: the orders wait, and it polls
    orders = 5
    process = start_simulate(
        live_server.url, "--orders", str(orders), "--no-sender", "--db-patience", "1"
    )
    name = sql.Identifier(connection.settings_dict["NAME"])
    params = {**connection.get_connection_params(), "dbname": "postgres", "autocommit": True}
    try:
        wait_for(lambda: Payment.objects.count() == orders, "every order paid")
        time.sleep(1.0)  # the command polls every 0.2 s: it has counted a summary by now
        # The database turns every new connection away (as one that is down would), then the
        # command's own is cut.
        with psycopg.connect(**params) as admin:
            admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS false").format(name))
            try:
                assert terminate_simulate_connections() == 1
                out, err = finish(process, timeout=30)
            finally:
                admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS true").format(name))
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()

    assert process.returncode == 1
    assert "Traceback" not in err
    assert "CommandError: the database was lost during the run" in err
    summary = parse_summary(out)
    states = Counter(Order.objects.values_list("state", flat=True))
    assert summary["states"] == dict(states) == {"PENDING": orders}
    assert summary["orders not terminal"] == str(orders)
    assert int(summary["events written"]) == StoredEvent.objects.count() > 0
    assert summary["error"].startswith("lost the database, no connection for 1 s: ")
