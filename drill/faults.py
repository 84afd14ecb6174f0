"""The faults a drill injects, and the seeded schedule they follow.

A schedule places each fault at a fraction of the load (orders placed so far), so the faults land
mid-burst whatever the machine's speed; the seed picks the fractions, the order and the victims.
"""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from drill import topology
from drill.procs import Managed, children
from drill.services import CONTROL_APP, Broker, terminate_service_connections
from drill.topology import Context, Role


class Fault(StrEnum):
    WORKER_KILL = "SIGKILL a worker, restart it"
    WEB_KILL = "SIGKILL a web worker"
    DB_TERMINATE = "terminate the service's PostgreSQL connections"
    BROKER_LOSS = "lose the broker (SIGKILL, no persistence), restart it"
    HANDLER_FAILURE = "a handler fails transiently"


FAULTS_BY_MODE = {
    "celery": tuple(Fault),
    "embedded": (Fault.WEB_KILL, Fault.WORKER_KILL, Fault.HANDLER_FAILURE),
}


@dataclass(frozen=True)
class Planned:
    fault: Fault
    at_fraction: float  # of the orders to place


@dataclass
class Injected:
    fault: Fault
    at_fraction: float
    orders_before: int = -1
    seconds: float = 0.0  # since the load started
    detail: str = "not injected"
    ok: bool = False


def plan(mode: str, seed: int, rounds: int) -> list[Planned]:
    """Each fault of the mode ``rounds`` times, at seeded points from 5 % to 80 % of the load."""
    rng = random.Random(f"drill:{seed}:{mode}")
    faults = [fault for _ in range(rounds) for fault in FAULTS_BY_MODE[mode]]
    rng.shuffle(faults)
    slot = 0.75 / len(faults)
    return [
        Planned(fault, round(0.05 + slot * (i + rng.uniform(0.1, 0.9)), 3))
        for i, fault in enumerate(faults)
    ]


@dataclass
class Injector:
    """Runs a plan in a thread while the load runs."""

    mode: str
    ctx: Context
    procs: dict[str, Managed]
    broker: Broker | None
    database_url: str
    flag: Path
    orders: int
    seed: int
    # Longer than the retry budget (1 + 3 attempts within about 7 s with the drill's settings), so
    # early failures go dead and the operator retry is exercised too.
    handler_failure_seconds: float = 15.0
    records: list[Injected] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _timers: list[threading.Timer] = field(default_factory=list)

    def start(self, schedule: list[Planned], load_started: float) -> None:
        self.records = [Injected(p.fault, p.at_fraction) for p in schedule]
        self._thread = threading.Thread(
            target=self._run, args=(load_started,), name="drill-faults", daemon=True
        )
        self._thread.start()

    def finish(self) -> None:
        """The load ended: inject what is left now (so every fault is still tried), then stop."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        for timer in self._timers:
            timer.join()
        self.flag.unlink(missing_ok=True)

    def _run(self, load_started: float) -> None:
        rng = random.Random(f"drill:{self.seed}:victims")
        for record in self.records:
            target = int(record.at_fraction * self.orders)
            while not self._stop.is_set() and self.count_orders() < target:
                time.sleep(0.25)
            record.orders_before = self.count_orders()
            record.seconds = round(time.monotonic() - load_started, 1)
            try:
                record.detail = self._inject(record.fault, rng)
                record.ok = True
            except Exception as exc:  # a fault that could not be injected fails the drill
                record.detail = f"could not inject: {type(exc).__name__}: {exc}"

    def _inject(self, fault: Fault, rng: random.Random) -> str:
        actions: dict[Fault, Callable[[random.Random], str]] = {
            Fault.WORKER_KILL: self._kill_worker,
            Fault.WEB_KILL: self._kill_web,
            Fault.DB_TERMINATE: self._terminate_connections,
            Fault.BROKER_LOSS: self._lose_broker,
            Fault.HANDLER_FAILURE: self._fail_handler,
        }
        return actions[fault](rng)

    def _restart(self, process: Managed) -> None:
        process.start()
        topology.wait_ready(self.mode, process, self.ctx)

    def _kill_worker(self, rng: random.Random) -> str:
        process = self.procs[rng.choice(topology.by_role(self.mode, Role.WORKER))]
        pids = process.kill()
        # Restarted a second later, in the background, so the schedule goes on meanwhile.
        timer = threading.Timer(1.0, self._restart, (process,))
        timer.start()
        self._timers.append(timer)
        return f"{process.name}: killed pids {pids}, restarted 1 s later"

    def _kill_web(self, rng: random.Random) -> str:
        process = self.procs[rng.choice(topology.by_role(self.mode, Role.WEB))]
        if self.mode == "celery":
            # gunicorn: one of the master's workers dies mid-request; the master replaces it.
            workers = children(process.pid)
            if not workers:
                raise RuntimeError("gunicorn has no workers to kill")
            victim = rng.choice(workers)
            os.kill(victim, signal.SIGKILL)
            return f"{process.name}: killed worker pid {victim} of {len(workers)}"
        pids = process.kill()
        self._restart(process)
        return f"{process.name}: killed pids {pids}, restarted"

    def _terminate_connections(self, rng: random.Random) -> str:
        return f"{terminate_service_connections(self.database_url)} connections terminated"

    def _lose_broker(self, rng: random.Random) -> str:
        if self.broker is None:
            raise RuntimeError("this mode has no broker")
        queued = self.broker.queued(self.ctx.queue)
        started = time.monotonic()
        self.broker.crash_and_restart(down_seconds=3.0)
        return f"{queued} messages lost, broker down {time.monotonic() - started:.1f}s"

    def _fail_handler(self, rng: random.Random) -> str:
        self.flag.touch()
        timer = threading.Timer(self.handler_failure_seconds, self.flag.unlink, (True,))
        timer.start()
        self._timers.append(timer)
        return f"drill.flaky_audit fails for {self.handler_failure_seconds:.0f}s"

    def count_orders(self) -> int:
        try:
            return _count_orders(self.mode, self.database_url)
        except Exception:
            return -1


def _count_orders(mode: str, database_url: str) -> int:
    if database_url.startswith("sqlite"):
        path = database_url.removeprefix("sqlite:///")
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as conn:
            return int(conn.execute("SELECT count(*) FROM orders_order").fetchone()[0])
    import psycopg

    with psycopg.connect(
        database_url.split("?")[0], connect_timeout=5, application_name=CONTROL_APP
    ) as conn:
        row = conn.execute("SELECT count(*) FROM orders_order").fetchone()
        return int(row[0]) if row else 0
