"""The production-like servers of figures 2, 5 and 6: gunicorn, Celery workers and beat.

The reactions to events run as in production: Celery beat sends ``events.dispatch_subscriptions``
on its schedule, and the workers run the ``events.drain_segment`` tasks it sends; a request or a
command never runs them.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from bench.config import VAR_DIR, BenchConfig
from bench.procs import Managed, free_port, http_ok, log_contains


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def gunicorn(
    cfg: BenchConfig, port: int | None = None, env: dict[str, str] | None = None
) -> tuple[Managed, int]:
    """gunicorn serving the product (and the ceilings) with ``cfg.web_workers`` sync workers."""
    port = port or free_port()
    argv = [
        _bin("gunicorn"),
        "core.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(cfg.web_workers),
        "--timeout",
        "60",
        "--log-level",
        "warning",
    ]
    return Managed("gunicorn", argv, env or dict(os.environ)), port


def wait_web(web: Managed, port: int) -> None:
    web.wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/healthz"), 60, "starting")


def celery_worker(
    cfg: BenchConfig, name: str, concurrency: int, env: dict[str, str] | None = None
) -> Managed:
    """A Celery worker (prefork pool of ``concurrency`` processes) on the bench's own queue: it
    runs the subscriptions' drain tasks it is sent (by beat, or by a figure dispatching)."""
    argv = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "core",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        str(concurrency),
        "--queues",
        cfg.queue,
        "--hostname",
        f"{name}-{os.getpid()}@%h",
        "--loglevel",
        "INFO",
        "--without-gossip",
        "--without-mingle",
    ]
    return Managed(name, argv, env or dict(os.environ))


def celery_beat(env: dict[str, str]) -> Managed:
    """Celery beat: the periodic tasks, ``events.dispatch_subscriptions`` first among them (every
    ``OMS_SUBSCRIPTION_DISPATCH_SECONDS``)."""
    schedule = VAR_DIR / "celerybeat-schedule"
    schedule.unlink(missing_ok=True)
    argv = [sys.executable, "-m", "celery", "-A", "core", "beat", "--loglevel", "INFO"]
    return Managed("celery-beat", [*argv, "--schedule", str(schedule)], env)


def wait_celery(worker: Managed) -> None:
    worker.wait_for(lambda: log_contains(worker.log_path, " ready."), 60, "starting")
