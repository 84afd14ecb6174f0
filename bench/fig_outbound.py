"""Figure 8: outbound webhooks, delivered to a local receiver that verifies every signature.

The receiver (``bench/webhook_receiver.py``) runs in a process of its own on 127.0.0.1, so it
never shares the sender's GIL: one asyncio loop, keep-alive connections, every message verified
with the ``standardwebhooks`` reference package and answered 200. Loopback is an allowed network
for this figure only (``OMS_OUTBOUND_ALLOWED_NETWORKS`` gains 127.0.0.0/8); everything else is
the product's default configuration.

Delivered per second, one sender process: an endpoint is registered per run (every event type),
then orders are created through ``OrderService`` and the product's subscriptions run with
``run_until_idle()`` until the fan-out has written ``OMS_BENCH_OUTBOUND_MESSAGES`` messages for
each endpoint (``order.created`` and ``payment.requested``, two per order); none is sent
meanwhile. Each run enables its own endpoint alone, and this process calls ``sender.send_due()``
in a loop, as the periodic job does, with the default batch size and concurrency, until nothing
is due: the messages over the seconds from the first call to the end of the last one that sent
something. The ceiling is the same messages posted again by the
same code (``attempt.post``: address check, signing, httpx) from as many threads in batches of the
same size, with no claim and no record: what the HTTP exchange alone allows on this machine.

Delay, commit to receipt: a Celery worker (one process per core) and beat run the subscriptions
and the ``outbound.send_due_messages`` job as in production. This process creates orders at a
steady ``OMS_BENCH_OUTBOUND_RATE`` per second for ``OMS_BENCH_OUTBOUND_SECONDS`` and notes, for
each, the wall-clock time ``create_order`` returned (its transaction committed). The log keeps no
commit time, so the delay is measured on the ``order.created`` messages of these orders: from that
return to the moment the receiver had read the request. The note adds the delay of every message
(``payment.requested`` too, committed by the worker) from the event's ``occurred_at``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from bench.backlog import backlog, free_leases
from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.fixtures import fresh_start, handler_names, purge_queue, setup_django
from bench.procs import CpuMeter, Managed, free_port, http_ok, stop_on_sigterm
from bench.results import Row, emit, unavailable
from bench.servers import celery_beat, celery_worker, wait_celery
from bench.stats import median, percentile
from bench.workload import create_command

FAN_OUT = "outbound.fan_out"
SEED_CHUNK = 50  # orders created between two run_until_idle() while seeding
LOOPBACK = "127.0.0.0/8"
THROUGHPUT_NAME = "outbound: messages delivered/s, one sender process (send_due loop)"
P50_NAME = "outbound: event commit → receipt at the receiver, p50 (steady load, Celery)"
P99_NAME = "outbound: event commit → receipt at the receiver, p99 (steady load, Celery)"


class ReceiverClient:
    """The receiver process and its control calls."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.process = Managed(
            "outbound-receiver",
            [sys.executable, "-m", "bench.webhook_receiver", "--port", str(port)],
            dict(os.environ),
        )

    def url(self, name: str) -> str:
        return f"{self.base}/hooks/{name}"

    def start(self) -> Managed:
        self.process.__enter__()
        self.process.wait_for(lambda: http_ok(f"{self.base}/control/ready"), 30, "starting")
        return self.process

    def register(self, name: str, secret: str) -> None:
        body = json.dumps({"path": f"/hooks/{name}", "secret": secret}).encode()
        request = urllib.request.Request(f"{self.base}/control/secret", data=body, method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:
            response.read()

    def arrivals(self, after: int = 0) -> dict[str, Any]:
        with urllib.request.urlopen(
            f"{self.base}/control/arrivals?after={after}", timeout=30
        ) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data

    def count(self) -> int:
        return int(self.arrivals(after=1 << 62)["count"])


def settings_value(name: str) -> Any:
    from django.conf import settings

    return getattr(settings, name)


def register(receiver: ReceiverClient, name: str) -> Any:
    """A new endpoint for every event type, its secret given to the receiver."""
    from apps.outbound import services

    registered = services.register(url=receiver.url(name), event_types=[])
    receiver.register(name, registered.secret)
    return registered.endpoint


def enable_only(endpoint: Any) -> None:
    """Only ``endpoint`` gets new messages and has its messages sent."""
    from apps.outbound.models import WebhookEndpoint

    WebhookEndpoint.objects.exclude(id=endpoint.id).update(enabled=False)
    WebhookEndpoint.objects.filter(id=endpoint.id).update(enabled=True)


def pending(endpoint: Any) -> int:
    from apps.outbound.models import OutboundMessage

    return OutboundMessage.objects.filter(endpoint=endpoint, status="pending").count()


def seed(endpoints: list[Any], create: Callable[[], Any], messages: int) -> tuple[int, float]:
    """Orders created and the subscriptions run here until the fan-out has written at least
    ``messages`` messages for each of ``endpoints``; (messages each, seconds it took)."""
    from apps.events.subscriptions import run_until_idle

    started = time.perf_counter()
    due = 0
    while due < messages:
        for _ in range(SEED_CHUNK):
            create()
        run_until_idle()
        due = min(pending(endpoint) for endpoint in endpoints)
    return due, time.perf_counter() - started


class Counter:
    """SQL statements and commits on this thread's connection (the sender's: its threads only
    post, every read and write goes through this one)."""

    def __init__(self) -> None:
        self.statements = 0
        self.commits = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.statements += 1
        return execute(sql, params, many, context)

    @contextlib.contextmanager
    def counting(self) -> Iterator[None]:
        from django.db import connection

        commit = connection.commit

        def counted() -> None:
            self.commits += 1
            commit()

        connection.commit = counted  # type: ignore[method-assign]
        try:
            with connection.execute_wrapper(self):
                yield
        finally:
            del connection.commit


def drain(messages: int) -> tuple[float, Counter]:
    """``send_due()`` in a loop until nothing is due; (seconds, statements and commits)."""
    from apps.outbound.sender import send_due

    counter = Counter()
    delivered = attempted = 0
    with counter.counting():
        started = time.perf_counter()
        ended = started
        while True:
            report = send_due()
            if not report.attempted:
                break
            ended = time.perf_counter()
            attempted += report.attempted
            delivered += report.delivered
    if delivered != messages or attempted != messages:
        raise RuntimeError(
            f"the sender attempted {attempted} and delivered {delivered} of {messages} messages"
        )
    return ended - started, counter


def ceiling(endpoint: Any) -> float:
    """The same messages, posted again by ``attempt.post`` from as many threads, in batches of
    the same size, with no claim and no record: messages/s."""
    import httpx

    from apps.outbound.attempt import post
    from apps.outbound.models import OutboundMessage

    messages = list(
        OutboundMessage.objects.select_related("endpoint").filter(endpoint=endpoint).order_by("id")
    )
    batch = max(1, settings_value("OMS_OUTBOUND_BATCH_SIZE"))
    timeout = settings_value("OMS_OUTBOUND_TIMEOUT_SECONDS")
    failed = 0
    started = time.perf_counter()
    with (
        httpx.Client(timeout=timeout, follow_redirects=False) as client,
        ThreadPoolExecutor(max_workers=max(1, settings_value("OMS_OUTBOUND_CONCURRENCY"))) as pool,
    ):
        for start in range(0, len(messages), batch):
            chunk = messages[start : start + batch]
            outcomes = list(pool.map(lambda message: post(client, message), chunk))
            failed += sum(1 for outcome in outcomes if not outcome.succeeded)
    seconds = time.perf_counter() - started
    if failed:
        raise RuntimeError(f"ceiling: {failed} of {len(messages)} posts were not answered 2xx")
    return len(messages) / seconds


def check_arrivals(receiver: ReceiverClient, offset: int, name: str, expected: int) -> None:
    data = receiver.arrivals(offset)
    if data["rejected"] or data["unknown"]:
        raise RuntimeError(
            f"the receiver refused messages: {data['rejected']} bad signatures, "
            f"{data['unknown']} to an unknown path"
        )
    got = {row[2] for row in data["arrivals"] if row[1] == f"/hooks/{name}"}
    if len(got) != expected:
        raise RuntimeError(f"the receiver verified {len(got)} distinct messages of {expected}")


def throughput(cfg: BenchConfig, receiver: ReceiverClient, create: Callable[[], Any]) -> Row:
    """Row 8.1: the backlogs written by the fan-out, each drained by ``send_due()`` here."""
    target = max(SEED_CHUNK, cfg.outbound_messages)
    # One endpoint per run and one to warm up: one seeding writes every backlog (one message per
    # endpoint and event), and each run enables its own endpoint alone.
    warm = register(receiver, "warm-up")
    names = [f"backlog-{run + 1}" for run in range(cfg.runs)]
    endpoints = [register(receiver, name) for name in names]
    due, seed_seconds = seed([warm, *endpoints], create, target)
    enable_only(warm)
    send_due_warm_up()
    warm.messages.filter(status="pending").delete()  # not left in the claims' way
    rates: list[float] = []
    ceilings: list[float] = []
    statements: list[float] = []
    commits: list[float] = []
    cpus: list[dict[str, float]] = []
    meter = CpuMeter(receiver.process.pid)
    # Keep the time the delay runs need: a worker and beat start, then each run's load and the
    # wait for its last messages.
    runs = Runs(cfg, reserve=10 + cfg.runs * (cfg.outbound_seconds + 4))
    for run in runs:
        name, endpoint = names[run], endpoints[run]
        enable_only(endpoint)
        offset = receiver.count()
        meter.start()
        seconds, counter = drain(due)
        cpus.append(meter.stop())
        check_arrivals(receiver, offset, name, due)
        rates.append(due / seconds)
        statements.append(counter.statements / due)
        commits.append(counter.commits / due)
        ceilings.append(ceiling(endpoint))
        print(
            f"  run {run + 1}/{cfg.runs}: {due} messages in {seconds:.2f} s, {rates[-1]:.0f}/s "
            f"({statements[-1]:.2f} SQL statements and {commits[-1]:.2f} commits each); "
            f"ceiling {ceilings[-1]:.0f}/s; this process {cpus[-1]['self_cores']:.2f} cores, "
            f"receiver {cpus[-1]['tree_cores']:.2f}, PostgreSQL {cpus[-1]['postgres_cores']:.2f}",
            flush=True,
        )
    setup = (
        f"{due} messages per run (order.created and payment.requested) written by the fan-out "
        f"(orders created and run_until_idle() here, {seed_seconds:.1f} s for every run's "
        "backlog at once, one endpoint per run), then drained by send_due() in a loop in this "
        f"process: batches of {settings_value('OMS_OUTBOUND_BATCH_SIZE')}, "
        f"{settings_value('OMS_OUTBOUND_CONCURRENCY')} threads posting (the defaults); the "
        "receiver, a process of its own, verified every signature with standardwebhooks and "
        "answered 200"
    )
    used = {key: median([c[key] for c in cpus]) for key in cpus[0]}
    ours = used["self_cores"] + used["postgres_cores"] + used["tree_cores"]
    cpu = (
        f"during the drains (median) this process used {used['self_cores']:.2f} cores, "
        f"PostgreSQL {used['postgres_cores']:.2f}, the receiver {used['tree_cores']:.2f}, "
        f"everything else on the machine "
        f"{max(0.0, used['machine_busy'] * cfg.cores - ours):.2f} of its {cfg.cores}"
    )
    return Row(
        figure="8.1",
        name=THROUGHPUT_NAME,
        unit="messages/s",
        samples=rates,
        compare_label="ceiling: the same signed POSTs, same threads and batches, no database",
        compare_samples=ceilings,
        note=join(
            setup,
            f"per delivered message, on the sender's connection: {median(statements):.2f} SQL "
            f"statements and {median(commits):.2f} commits (median)",
            cpu,
            runs.note(),
        ),
    )


def send_due_warm_up() -> None:
    """Two batches of the warm-up endpoint: the connection, the code paths, the receiver."""
    from apps.outbound.sender import send_due

    batch = settings_value("OMS_OUTBOUND_BATCH_SIZE")
    report = send_due(limit=2 * batch)
    if report.delivered != report.attempted or not report.attempted:
        raise RuntimeError(f"warm-up: {report.delivered} of {report.attempted} delivered")


def arrivals_of(receiver: ReceiverClient, offset: int, name: str) -> list[list[Any]]:
    """The first arrival of each webhook id at ``name`` from ``offset`` on."""
    seen: set[str] = set()
    first: list[list[Any]] = []
    for row in receiver.arrivals(offset)["arrivals"]:
        if row[1] == f"/hooks/{name}" and row[2] not in seen:
            seen.add(row[2])
            first.append(row)
    return first


def steady_load(
    create: Callable[[], Any], rate: float, seconds: float
) -> tuple[dict[str, float], float]:
    """Orders created at ``rate`` per second for ``seconds``; (order id → wall-clock time its
    create returned, orders/s achieved)."""
    committed: dict[str, float] = {}
    count = max(1, round(rate * seconds))
    started = time.monotonic()
    for number in range(count):
        wait = started + number / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        order = create()
        committed[str(order.id)] = time.time()
    return committed, count / max(time.monotonic() - started, 1e-9)


def wait_received(
    receiver: ReceiverClient, endpoint: Any, offset: int, name: str, orders: set[str], limit: float
) -> float | None:
    """Until every order's ``order.created`` arrived, no subscription is behind and no message
    to ``endpoint`` is pending; the seconds it took, None when ``limit`` passed first."""
    started = time.monotonic()
    while time.monotonic() - started < limit:
        created = {
            row[4] for row in arrivals_of(receiver, offset, name) if row[3] == "order.created"
        }
        if orders <= created and backlog().behind == 0 and pending(endpoint) == 0:
            return time.monotonic() - started
        time.sleep(0.25)
    return None


def delay_rows(cfg: BenchConfig, receiver: ReceiverClient, create: Callable[[], Any]) -> list[Row]:
    """Rows 8.2 and 8.3: the steady load, the reactions and the sender run by Celery."""
    if cfg.time_left() < 30:
        return [Row(figure="8.2", name=P50_NAME, failed="no time left in the figure's budget")]
    name = "live"
    endpoint = register(receiver, name)
    enable_only(endpoint)
    p50s: list[float] = []
    p99s: list[float] = []
    occurred: list[float] = []
    rates: list[float] = []
    per_order: list[float] = []
    after: list[float] = []
    samples: list[int] = []
    purge_queue(cfg.queue)
    free_leases()
    env = dict(os.environ)
    worker = celery_worker(cfg, "celery-outbound", cfg.cores, env)
    try:
        with worker, celery_beat(env):
            wait_celery(worker)
            # Warm-up: the worker's first tasks, the sender's first connection.
            offset = receiver.count()
            committed, _ = steady_load(create, 5, 1)
            if wait_received(receiver, endpoint, offset, name, set(committed), 60) is None:
                raise RuntimeError("warm-up: the orders' messages did not arrive within 60 s")
            runs = Runs(cfg, reserve=5.0)
            for run in runs:
                offset = receiver.count()
                committed, achieved = steady_load(create, cfg.outbound_rate, cfg.outbound_seconds)
                limit = max(10.0, min(60.0, cfg.time_left() - 5))
                waited = wait_received(receiver, endpoint, offset, name, set(committed), limit)
                if waited is None:
                    raise RuntimeError(
                        f"run {run + 1}: messages still missing {limit:.0f} s after the last "
                        f"order; {backlog().describe()}, {pending(endpoint)} messages pending"
                    )
                rows = arrivals_of(receiver, offset, name)
                delays = [
                    row[0] - committed[row[4]]
                    for row in rows
                    if row[3] == "order.created" and row[4] in committed
                ]
                since_occurred = [
                    row[0] - datetime.fromisoformat(row[5]).timestamp() for row in rows
                ]
                samples.append(len(delays))
                p50s.append(percentile(delays, 0.5) * 1000)
                p99s.append(percentile(delays, 0.99) * 1000)
                occurred.extend(since_occurred)
                rates.append(achieved)
                per_order.append(len(rows) / len(committed))
                after.append(waited)
                print(
                    f"  delay run {run + 1}/{cfg.runs}: {len(committed)} orders at "
                    f"{achieved:.1f}/s, {len(rows)} messages; commit → receipt p50 "
                    f"{p50s[-1]:.0f} ms, p99 {p99s[-1]:.0f} ms; all received {waited:.1f} s "
                    "after the last order",
                    flush=True,
                )
    finally:
        purge_queue(cfg.queue)
        free_leases()
    from apps.outbound.models import DeliveryAttempt, OutboundMessage

    messages = OutboundMessage.objects.filter(endpoint=endpoint).count()
    attempts = DeliveryAttempt.objects.filter(message__endpoint=endpoint).count()
    setup = (
        f"{round(cfg.outbound_rate * cfg.outbound_seconds)} orders per run created in this "
        f"process at {median(rates):.1f}/s (median achieved; asked {cfg.outbound_rate:g}/s) for "
        f"{cfg.outbound_seconds:g} s, {median(per_order):.1f} messages per order; a Celery worker "
        f"({cfg.cores} processes) and beat run the subscriptions (dispatch every "
        f"{settings_value('OMS_SUBSCRIPTION_DISPATCH_SECONDS'):g} s) and "
        f"outbound.send_due_messages (every "
        f"{settings_value('OMS_OUTBOUND_SEND_INTERVAL_SECONDS'):g} s)"
    )
    measured = (
        "measured on order.created: from the moment create_order returned in this process (its "
        "commit; the log keeps no commit time) to the moment the receiver had read the request; "
        "two periodic waits are on the way, beat's dispatch of the fan-out and the send job, "
        "each half its interval on average"
    )
    fewest = min(samples)
    slowest = fewest - math.ceil(0.99 * fewest) + 1
    rank = (
        f"at least {fewest} order.created messages per run: the p99 is the "
        + {1: "slowest", 2: "second slowest", 3: "third slowest"}.get(
            slowest, f"{slowest}th slowest"
        )
        + " of a run"
    )
    every = (
        f"every message of the runs ({len(occurred)}, payment.requested too), from the event's "
        f"occurred_at (set before its commit): p50 {percentile(occurred, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(occurred, 0.99) * 1000:.0f} ms"
    )
    tail = (
        f"every message received {median(after):.1f} s (median) after the last order; "
        f"{attempts} attempts for {messages} messages to the endpoint"
    )
    return [
        Row(
            figure="8.2",
            name=P50_NAME,
            unit="ms",
            samples=p50s,
            note=join(setup, measured, runs.note()),
        ),
        Row(figure="8.3", name=P99_NAME, unit="ms", samples=p99s, note=join(rank, every, tail)),
    ]


def main() -> None:
    stop_on_sigterm()
    cfg = BenchConfig()
    allowed = os.environ.get("OMS_OUTBOUND_ALLOWED_NETWORKS", "")
    # The receiver listens on loopback, which the sender refuses unless it is allowed.
    os.environ["OMS_OUTBOUND_ALLOWED_NETWORKS"] = ",".join(
        part for part in (allowed, LOOPBACK) if part
    )
    setup_django()
    from django.apps import apps

    if not apps.is_installed("apps.outbound") or FAN_OUT not in handler_names():
        reason = (
            "outbound webhooks (apps/outbound, the outbound.fan_out subscription) do not exist yet"
        )
        emit(
            unavailable("8.1", THROUGHPUT_NAME, reason),
            unavailable("8.2", P50_NAME, reason),
            unavailable("8.3", P99_NAME, reason),
        )
        return
    from apps.orders.services import OrderService

    users = fresh_start()
    service = OrderService()
    command = create_command(users.customer.pk, cfg.items_per_order)

    def create() -> Any:
        return service.create_order(command)

    print(f"  subscriptions: {', '.join(handler_names())}", flush=True)
    receiver = ReceiverClient(free_port())
    try:
        receiver.start()
        emit(throughput(cfg, receiver, create))
        emit(*delay_rows(cfg, receiver, create))
    finally:
        receiver.process.stop()


if __name__ == "__main__":
    main()
