"""The production-like servers of figures 2, 5 and 6: gunicorn, Celery workers and beat.

The reactions to events run as in production: Celery beat sends ``events.dispatch_subscriptions``
on its schedule, and the workers run the ``events.drain_segment`` tasks it sends; a request or a
command never runs them.
"""

from __future__ import annotations

import os
import runpy
import sys
from pathlib import Path

from bench.config import ROOT, VAR_DIR, BenchConfig
from bench.procs import Managed, free_port, http_ok, log_contains


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def gunicorn(
    cfg: BenchConfig, port: int | None = None, env: dict[str, str] | None = None
) -> tuple[Managed, int]:
    """gunicorn serving the product (and the ceilings) in the production configuration
    (``gunicorn.conf.py``); ``OMS_BENCH_WEB_WORKERS`` and ``OMS_BENCH_WEB_WORKER_CLASS`` and
    ``OMS_BENCH_WEB_THREADS`` override its workers for a comparison."""
    port = port or free_port()
    argv = [
        _bin("gunicorn"),
        "--config",
        str(ROOT / "gunicorn.conf.py"),
        "--bind",
        f"127.0.0.1:{port}",
        "--log-level",
        "warning",
    ]
    if cfg.web_workers:
        argv += ["--workers", str(cfg.web_workers)]
    if cfg.web_worker_class:
        argv += ["--worker-class", cfg.web_worker_class]
    if cfg.web_threads:
        argv += ["--threads", str(cfg.web_threads)]
    argv.append("core.wsgi:application")
    return Managed("gunicorn", argv, env or dict(os.environ)), port


def web_configuration(cfg: BenchConfig) -> str:
    """How gunicorn serves, as the figures' notes state it."""
    values = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    workers = cfg.web_workers or values["workers"]
    worker_class = cfg.web_worker_class or values["worker_class"]
    threads = cfg.web_threads or values["threads"]
    shape = f"{workers} {worker_class} workers" + (f" x {threads} threads" if threads > 1 else "")
    return f"gunicorn.conf.py: {shape}"


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
