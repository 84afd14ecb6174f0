"""The benchmark's knobs, read from environment variables (documented in bench/README.md).

This module imports nothing of Django, so the orchestrator can read it before any settings load.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).absolute().parent.parent
VAR_DIR = ROOT / "var" / "bench"
DEFAULT_DATABASE_URL = "postgres://127.0.0.1:5432/oms_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/0"


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "")
    return int(value) if value.strip() else default


def _float(name: str, default: float) -> float:
    value = os.environ.get(name, "")
    return float(value) if value.strip() else default


def _ints(name: str, default: list[int]) -> list[int]:
    value = os.environ.get(name, "")
    if not value.strip():
        return default
    return [int(part) for part in value.split(",") if part.strip()]


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass(frozen=True)
class BenchConfig:
    database_url: str = field(
        default_factory=lambda: os.environ.get("OMS_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    )
    broker_url: str = field(
        default_factory=lambda: os.environ.get("OMS_BENCH_BROKER_URL", DEFAULT_BROKER_URL)
    )
    # A queue of its own, so the bench's workers never take another process's tasks on a shared
    # Redis, and no other worker takes the bench's.
    queue: str = field(default_factory=lambda: os.environ.get("OMS_BENCH_QUEUE", "oms-bench"))
    runs: int = field(default_factory=lambda: max(1, _int("OMS_BENCH_RUNS", 3)))
    cores: int = field(default_factory=_cores)
    items_per_order: int = field(default_factory=lambda: _int("OMS_BENCH_ITEMS", 3))
    # Figure 1: each run lasts this long (and at most max_orders orders).
    service_seconds: float = field(default_factory=lambda: _float("OMS_BENCH_SERVICE_SECONDS", 3))
    service_max_orders: int = field(
        default_factory=lambda: _int("OMS_BENCH_SERVICE_MAX_ORDERS", 20_000)
    )
    # Figure 2: each endpoint of each run is loaded this long (and at most max_requests).
    http_seconds: float = field(default_factory=lambda: _float("OMS_BENCH_HTTP_SECONDS", 10))
    http_max_requests: int = field(
        default_factory=lambda: _int("OMS_BENCH_HTTP_MAX_REQUESTS", 50_000)
    )
    http_concurrency: int = field(default_factory=lambda: _int("OMS_BENCH_HTTP_CONCURRENCY", 8))
    # 0 / "": as gunicorn.conf.py says (the production configuration).
    web_workers: int = field(default_factory=lambda: _int("OMS_BENCH_WEB_WORKERS", 0))
    web_worker_class: str = field(
        default_factory=lambda: os.environ.get("OMS_BENCH_WEB_WORKER_CLASS", "")
    )
    web_threads: int = field(default_factory=lambda: _int("OMS_BENCH_WEB_THREADS", 0))
    # "auto": wrk when it is on PATH, else the bundled client; "python" or "wrk" to force one.
    load_generator: str = field(
        default_factory=lambda: os.environ.get("OMS_BENCH_LOADGEN", "auto").lower()
    )
    # Figure 4.
    scaling_sizes: list[int] = field(
        default_factory=lambda: _ints("OMS_BENCH_SCALING_SIZES", [1_000, 10_000, 100_000])
    )
    scaling_requests: int = field(default_factory=lambda: _int("OMS_BENCH_SCALING_REQUESTS", 100))
    # Figure 5.
    delivery_events: int = field(default_factory=lambda: _int("OMS_BENCH_DELIVERY_EVENTS", 600))
    e2e_orders: int = field(default_factory=lambda: _int("OMS_BENCH_E2E_ORDERS", 200))
    # Figure 8: messages in the backlog one sender drains; the steady load of the delay runs.
    outbound_messages: int = field(
        default_factory=lambda: _int("OMS_BENCH_OUTBOUND_MESSAGES", 1000)
    )
    outbound_rate: float = field(default_factory=lambda: _float("OMS_BENCH_OUTBOUND_RATE", 10))
    outbound_seconds: float = field(default_factory=lambda: _float("OMS_BENCH_OUTBOUND_SECONDS", 8))
    # Figure 6: orders created through the web server before its memory is read.
    memory_orders: int = field(default_factory=lambda: _int("OMS_BENCH_MEMORY_ORDERS", 10_000))
    memory_seconds: float = field(default_factory=lambda: _float("OMS_BENCH_MEMORY_SECONDS", 400))
    # The whole run's time budget (seconds). Each figure gets a share (run.py) as a deadline that
    # it plans against; one still running 30 s past its deadline is stopped and reported.
    budget_seconds: float = field(default_factory=lambda: _float("OMS_BENCH_BUDGET_SECONDS", 780))
    deadline: float = field(
        default_factory=lambda: _float("OMS_BENCH_DEADLINE", time.time() + 3600)
    )

    def time_left(self) -> float:
        """Seconds until this figure's deadline."""
        return self.deadline - time.time()

    @property
    def database_name(self) -> str:
        return urlparse(self.database_url).path.lstrip("/")

    @property
    def peer_database_url(self) -> str:
        parsed = urlparse(self.database_url)
        return parsed._replace(path=f"/{self.database_name}_peer").geturl()


def check_database_name(name: str) -> None:
    """Refuse the databases the benchmark must never touch: it truncates what it uses."""
    if not name:
        raise SystemExit("OMS_BENCH_DATABASE_URL names no database")
    if name in {"oms", "postgres", "template0", "template1"} or name.startswith("test_"):
        raise SystemExit(
            f"refusing to benchmark in the database {name!r}: the benchmark empties its tables. "
            "Name a database of its own in OMS_BENCH_DATABASE_URL (default oms_bench)."
        )
