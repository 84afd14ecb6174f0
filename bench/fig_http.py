"""Figures 2 and 6: the HTTP API under gunicorn, its ceilings, and the servers' memory.

gunicorn runs in its production configuration (``gunicorn.conf.py``) with production settings
(DEBUG off, a secret key, allowed hosts, no SSL redirect on loopback). The reactions to the
orders' events run as in production: Celery beat dispatches the subscriptions and a Celery worker
(one process per core) started here runs them, beside gunicorn on the same cores; a request
publishes nothing. The load generator (wrk or the bundled client) hits, in turns within each run:
the no-database DRF ceiling, the raw-SQL write ceiling, ``POST /api/v1/orders/``,
``GET /api/v1/orders/{id}/`` and the list. The create window starts with nothing behind (the
backlog of the earlier windows is drained first, untimed), and the backlog it leaves is reported:
events behind at its end, and the time the worker then takes to drain them. Then more orders are
posted until ``OMS_BENCH_MEMORY_ORDERS`` exist, the subscriptions drain, and the peak RSS of each
web worker and each Celery pool process is read from /proc (figure 6).
"""

from __future__ import annotations

import os
import time
from typing import Any

from bench.backlog import backlog, wait_drained
from bench.budget import Runs, join
from bench.config import BenchConfig
from bench.fixtures import fresh_start, handler_names, purge_queue, setup_django
from bench.loadgen import Endpoint, LoadResult, get_endpoint, json_endpoint, run_load
from bench.procs import children, peak_rss_mib, stop_on_sigterm
from bench.results import Row, Target, emit
from bench.servers import (
    celery_beat,
    celery_worker,
    gunicorn,
    wait_celery,
    wait_web,
    web_configuration,
)
from bench.workload import order_body

CEILING_NO_DB = "ceiling: no-database DRF endpoint"
CEILING_SQL = "ceiling: raw-SQL write endpoint"


def customer_order_ids(customer_id: int, limit: int = 300) -> list[str]:
    from apps.orders.models import Order

    ids = Order.objects.filter(customer_id=customer_id).values_list("id", flat=True)[:limit]
    return [str(order_id) for order_id in ids]


class Backlogs:
    """What each create window left to the subscriptions, and how long its drain took."""

    def __init__(self) -> None:
        self.behind: list[float] = []
        self.oldest: list[float] = []
        self.drain: list[float] = []
        self.not_drained: list[str] = []

    def after_window(self, cfg: BenchConfig) -> None:
        left = backlog()
        self.behind.append(left.behind)
        self.oldest.append(left.oldest_seconds)
        allowed = max(5.0, min(120.0, cfg.time_left() - 60))
        seconds, state = wait_drained(allowed)
        if seconds is None:
            self.not_drained.append(
                f"not drained {allowed:.0f} s after the window: {state.describe()}"
            )
        else:
            self.drain.append(seconds)
        if state.dead:
            self.not_drained.append(f"events the window's reactions gave up on: {state.describe()}")

    def rows(self) -> list[Row]:
        oldest = ", ".join(f"{age:.1f}" for age in self.oldest)
        return [
            Row(
                figure="2.11",
                name="HTTP POST /api/v1/orders/: events behind at the end of the window",
                unit="events",
                samples=self.behind,
                note=join(
                    "the subscriptions' backlog (sum of behind in lag.status()) the "
                    "create window left; the worker drains beside the load",
                    f"age of the oldest event behind, per run: {oldest} s" if oldest else "",
                ),
            ),
            Row(
                figure="2.12",
                name="HTTP POST /api/v1/orders/: time to drain the window's backlog",
                unit="s",
                samples=self.drain,
                note=join(
                    "from the end of the window until nothing is behind, Celery worker and beat "
                    "as in production",
                    *self.not_drained,
                ),
                failed="" if self.drain else "; ".join(self.not_drained) or "not measured",
            ),
        ]


class Collector:
    """Per endpoint, the runs' rates and latency percentiles (and errors seen)."""

    def __init__(self) -> None:
        self.rates: dict[str, list[float]] = {}
        self.p50: dict[str, list[float]] = {}
        self.p99: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.requests: dict[str, int] = {}
        self.first_error: dict[str, str] = {}

    def add(self, name: str, result: LoadResult) -> None:
        self.rates.setdefault(name, []).append(result.rate)
        if result.p50_ms is not None and result.p99_ms is not None:
            self.p50.setdefault(name, []).append(result.p50_ms)
            self.p99.setdefault(name, []).append(result.p99_ms)
        self.errors[name] = self.errors.get(name, 0) + result.errors
        self.requests[name] = self.requests.get(name, 0) + result.requests
        if result.first_error and name not in self.first_error:
            self.first_error[name] = result.first_error

    def note(self, name: str) -> str:
        errors = self.errors.get(name, 0)
        if not errors:
            return f"{self.requests.get(name, 0)} requests, no errors"
        return (
            f"{errors} of {self.requests[name]} requests failed "
            f"(first: {self.first_error.get(name, '?')}); rates count successes only"
        )


def main() -> None:
    stop_on_sigterm()
    cfg = BenchConfig()
    setup_django()
    users = fresh_start()
    purge_queue(cfg.queue)
    customer_id = users.customer.pk
    token = users.customer_token
    # The ceiling writes orders of a customer of its own, so figure 6 counts only API orders.
    ceiling_customer = type(users.customer).objects.create_user(username="bench-ceiling").pk

    worker = celery_worker(cfg, "celery-web", cfg.cores)
    web, port = gunicorn(cfg)
    with worker, web, celery_beat(dict(os.environ)):
        wait_web(web, port)
        wait_celery(worker)
        print(
            f"  gunicorn on 127.0.0.1:{port} ({web_configuration(cfg)}), celery worker and beat "
            "ready",
            flush=True,
        )

        def load(endpoint: Endpoint, seconds: float, max_requests: int | None = None) -> LoadResult:
            return run_load(
                endpoint,
                port,
                seconds=seconds,
                max_requests=max_requests or cfg.http_max_requests,
                concurrency=cfg.http_concurrency,
                preference=cfg.load_generator,
            )

        create = json_endpoint("create", "/api/v1/orders/", token, order_body(cfg.items_per_order))
        # Warm-up, and orders to read back: every web worker connects and imports its code paths.
        warm = load(create, 2.0, 400)
        if warm.requests and warm.errors == warm.requests:
            raise RuntimeError(f"POST /api/v1/orders/ fails: {warm.first_error}")
        ids = customer_order_ids(customer_id)
        if not ids:
            raise RuntimeError("no order was created during the warm-up")
        endpoints = [
            get_endpoint("no-db", ["/bench/ceiling/no-db/"], None),
            json_endpoint(
                "sql-write",
                "/bench/ceiling/sql-write/",
                None,
                {**order_body(cfg.items_per_order), "customer_id": ceiling_customer},
            ),
            create,
            get_endpoint("detail", [f"/api/v1/orders/{i}/" for i in ids], token),
            get_endpoint("list", ["/api/v1/orders/"], token),
        ]
        for endpoint in endpoints:
            load(endpoint, 1.0)

        results = Collector()
        backlogs = Backlogs()
        # Keep time for figure 6: posting up to memory_orders orders, then the subscriptions'
        # drain.
        runs = Runs(cfg, reserve=min(cfg.memory_seconds, 90) + 45)
        for run in runs:
            for endpoint in endpoints:
                if endpoint is create:
                    # The create window starts with nothing behind, so what it leaves is its own.
                    wait_drained(max(5.0, min(60.0, cfg.time_left() - 60)))
                results.add(endpoint.name, load(endpoint, cfg.http_seconds))
                if endpoint is create:
                    backlogs.after_window(cfg)
            summary = ", ".join(f"{e.name} {results.rates[e.name][-1]:.0f}/s" for e in endpoints)
            left = (
                f"{backlogs.behind[-1]:.0f} events behind after create" if backlogs.behind else ""
            )
            drained = f", drained in {backlogs.drain[-1]:.1f} s" if backlogs.drain else ""
            print(f"  run {run + 1}/{cfg.runs}: {summary}; {left}{drained}", flush=True)

        emit(*http_rows(cfg, results, runs.note()), *backlogs.rows())
        emit(*memory_rows(cfg, customer_id, worker, web, create, load))
    purge_queue(cfg.queue)


def http_rows(cfg: BenchConfig, r: Collector, runs_note: str) -> list[Row]:
    rows: list[Row] = []
    spec = [
        ("create", "POST /api/v1/orders/", "2.1", CEILING_SQL, "sql-write"),
        ("detail", "GET /api/v1/orders/{id}/", "2.5", CEILING_NO_DB, "no-db"),
        ("list", "GET /api/v1/orders/ (a page of 50)", "2.8", CEILING_NO_DB, "no-db"),
    ]
    for name, label, number, ceiling_label, ceiling in spec:
        major, minor = number.split(".")
        base = int(minor)
        rows.append(
            Row(
                figure=number,
                name=f"HTTP {label}: requests/s",
                unit="req/s",
                samples=r.rates.get(name, []),
                compare_label=ceiling_label,
                compare_samples=r.rates.get(ceiling, []),
                target=Target(
                    "ratio",
                    ">=",
                    0.5,
                    "≥ 50% of the raw-SQL ceiling"
                    if name == "create"
                    else "≥ 50% of the no-database ceiling",
                ),
                note=join(r.note(name), f"ceiling: {r.note(ceiling)}", runs_note),
            )
        )
        if name == "create":
            base += 1
            rows.append(
                Row(
                    figure=f"{major}.{base}",
                    name=f"HTTP {label}: requests/s vs the no-database ceiling",
                    unit="req/s",
                    samples=r.rates.get(name, []),
                    compare_label=CEILING_NO_DB,
                    compare_samples=r.rates.get("no-db", []),
                )
            )
        rows.append(
            Row(
                figure=f"{major}.{base + 1}",
                name=f"HTTP {label}: p50 latency",
                unit="ms",
                samples=r.p50.get(name, []),
                compare_label=f"{ceiling_label} p50",
                compare_samples=r.p50.get(ceiling, []),
            )
        )
        rows.append(
            Row(
                figure=f"{major}.{base + 2}",
                name=f"HTTP {label}: p99 latency",
                unit="ms",
                samples=r.p99.get(name, []),
                compare_label=f"{ceiling_label} p99",
                compare_samples=r.p99.get(ceiling, []),
                target=Target("value", "<", 50.0, "p99 < 50 ms") if name == "create" else None,
            )
        )
    return rows


def memory_rows(
    cfg: BenchConfig, customer_id: int, worker: Any, web: Any, create: Endpoint, load: Any
) -> list[Row]:
    from apps.orders.models import Order

    orders = Order.objects.filter(customer_id=customer_id)
    started = time.monotonic()
    # Time for the queue's drain and the reading of /proc is kept out of the posting.
    allowed = max(5.0, min(cfg.memory_seconds, cfg.time_left() - 25))
    total = orders.count()
    while total < cfg.memory_orders and time.monotonic() - started < allowed:
        remaining = cfg.memory_orders - total
        load(create, min(20.0, allowed - (time.monotonic() - started)), remaining)
        total = orders.count()
        print(f"  memory: {total} orders so far", flush=True)
    posted = backlog()
    seconds, left = wait_drained(max(5.0, min(30.0, cfg.time_left() - 10)))
    web_workers = [peak_rss_mib(pid) for pid in children(web.pid)]
    pool = [peak_rss_mib(pid) for pid in children(worker.pid)]
    web_values = [value for value in web_workers if value is not None]
    pool_values = [value for value in pool if value is not None]
    reached = f"after {total} orders" + (
        "" if total >= cfg.memory_orders else f" (time limit reached before {cfg.memory_orders})"
    )
    handlers = handler_names()
    work = (
        f"the Celery worker ran {len(handlers)} subscription(s) beside the load"
        if handlers
        else "no subscription is registered, so the Celery worker had no order work"
    )
    drain = (
        f"{posted.describe()} when the posting ended, drained {seconds:.1f} s later"
        if seconds is not None
        else f"{posted.describe()} when the posting ended; {left.describe()} when it was read"
    )
    rows = [
        Row(
            figure="6.1",
            name="memory: peak RSS of a gunicorn web worker",
            unit="MiB",
            samples=web_values,
            note=f"{reached}; value over the {len(web_values)} web workers (VmHWM)",
        ),
        Row(
            figure="6.2",
            name="memory: peak RSS of a Celery worker process",
            unit="MiB",
            samples=pool_values,
            note=f"{reached}; {work}; value over the {len(pool_values)} pool processes (VmHWM); "
            + drain,
        ),
    ]
    for row in rows:
        if not row.samples:
            row.failed = "no process to read"
    return rows


if __name__ == "__main__":
    main()
