"""The processes a drill starts, per mode: the one place to re-point when they change.

Each mode is a table of named specs. A spec says how to start the process, how to know it is
ready, and which role it plays for the faults (``web`` is what a web fault kills, ``worker`` what
a worker fault kills). When the delivery processes change, change the table, not the
faults or the checks.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drill.procs import ROOT, Managed, http_ok


class Role(StrEnum):
    WEB = "web"  # serves the API and the webhooks
    WORKER = "worker"  # runs the subscriptions (and their retries)
    SCHEDULER = "scheduler"  # periodic jobs: the subscriptions dispatch, the simulator sender


@dataclass(frozen=True)
class Context:
    """What the specs need to know about this run."""

    port: int
    run_dir: Path
    queue: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    role: Role
    argv: Callable[[Context], list[str]]
    # A line the process logs once per start when it is ready; None: poll /healthz (web).
    ready_line: str | None = None


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _manage(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "manage.py"), *args]


def _gunicorn(ctx: Context) -> list[str]:
    return [
        _bin("gunicorn"),
        "core.wsgi:application",
        "--bind",
        f"127.0.0.1:{ctx.port}",
        "--workers",
        "2",
        "--timeout",
        "30",
        "--access-logfile",
        str(ctx.run_dir / "access.log"),
        "--log-level",
        "warning",
    ]


def _celery_worker(ctx: Context) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "core",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        "--queues",
        ctx.queue,
        "--hostname",
        "drill-worker@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]


def _celery_beat(ctx: Context) -> list[str]:
    argv = [sys.executable, "-m", "celery", "-A", "core", "beat", "--loglevel", "INFO"]
    return [*argv, "--schedule", str(ctx.run_dir / "celerybeat-schedule")]


TOPOLOGY: dict[str, tuple[ProcessSpec, ...]] = {
    # Production: gunicorn, Celery workers, Celery beat (docs/operations.md "Production").
    "celery": (
        ProcessSpec("web", Role.WEB, _gunicorn),
        ProcessSpec("worker", Role.WORKER, _celery_worker, ready_line=" ready."),
        ProcessSpec("beat", Role.SCHEDULER, _celery_beat, ready_line="beat: Starting"),
    ),
    # Embedded: what `make run` starts (scripts/run_embedded.py).
    "embedded": (
        ProcessSpec(
            "web", Role.WEB, lambda ctx: _manage("runserver", f"127.0.0.1:{ctx.port}", "--noreload")
        ),
        ProcessSpec(
            "worker", Role.WORKER, lambda ctx: _manage("worker"), ready_line="worker: running"
        ),
    ),
}


def processes(mode: str, ctx: Context, env: dict[str, str]) -> dict[str, Managed]:
    """The mode's processes, not started yet, logging to ``<run dir>/<name>.log``."""
    return {
        spec.name: Managed(spec.name, spec.argv(ctx), env, ctx.run_dir / f"{spec.name}.log")
        for spec in TOPOLOGY[mode]
    }


def spec(mode: str, name: str) -> ProcessSpec:
    return next(s for s in TOPOLOGY[mode] if s.name == name)


def by_role(mode: str, role: Role) -> list[str]:
    return [s.name for s in TOPOLOGY[mode] if s.role == role]


def wait_ready(mode: str, process: Managed, ctx: Context, timeout: float = 60.0) -> None:
    """Wait until the process's latest start is ready."""
    line = spec(mode, process.name).ready_line
    if line is None:
        process.wait_for(lambda: http_ok(f"{ctx.base_url}/healthz"), timeout, "starting")
        return
    process.wait_for(lambda: process.log_text().count(line) >= process.starts, timeout, "starting")
