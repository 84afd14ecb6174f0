"""A real Celery worker process for the Celery suite.

The worker runs as a separate process, against the test database (PostgreSQL: the test and the
worker must see each other's commits) and the real broker, with Celery beat embedded (``-B``) so
that the dispatch task runs on its schedule as in production. No test uses ``task_always_eager``;
the test process must not run the subscriptions itself (``OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT``
off), so every reaction seen was the worker's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from scripts.services import require_services, tcp_reachable

ROOT = Path(__file__).resolve().parents[2]


def broker_url() -> str:
    return str(settings.CELERY_BROKER_URL)


def require_broker() -> None:
    problem = tcp_reachable(broker_url(), 6379)
    if problem is None:
        return
    message = f"the Celery suite needs the broker {broker_url()}: {problem}"
    if require_services():
        pytest.fail(f"{message} (OMS_REQUIRE_SERVICES=1)")
    pytest.skip(message)


def worker_database_url() -> str:
    db = connection.settings_dict
    user = f"{db['USER']}@" if db.get("USER") else ""
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}{host}:{port}/{db['NAME']}"


@contextmanager
def running_worker(
    *, concurrency: int = 1, beat: bool = True, extra_env: dict[str, str] | None = None
) -> Iterator[Callable[[], str]]:
    """Start a worker, wait until it is ready, yield a function that returns its log so far
    (after the block, all of it, what it wrote while stopping included)."""
    require_broker()
    assert not settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT, "the test would do the worker's job"
    log = tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False)  # noqa: SIM115
    schedule = tempfile.NamedTemporaryFile(suffix=".beat", delete=False)  # noqa: SIM115
    env = {
        **os.environ,
        "DATABASE_URL": worker_database_url(),
        "CELERY_BROKER_URL": broker_url(),
        "OMS_CELERY_QUEUE": str(settings.CELERY_TASK_DEFAULT_QUEUE),
        "OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT": "0",
        "OMS_SUBSCRIPTION_DISPATCH_SECONDS": "0.5",
        **(extra_env or {}),
    }
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "core",
        "worker",
        "--loglevel=INFO",
        f"--concurrency={concurrency}",
        "--pool=prefork",
        "--without-gossip",
        "--without-mingle",
        "--include=tests.support.probe",
        f"--hostname=test-{uuid.uuid4().hex[:8]}@%h",
        *(["-B", f"--schedule={schedule.name}"] if beat else []),
    ]
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)

    stopped: list[str] = []

    def read_log() -> str:
        return stopped[0] if stopped else Path(log.name).read_text()

    try:
        deadline = time.monotonic() + 60
        while " ready." not in read_log():
            if process.poll() is not None:
                pytest.fail(f"the Celery worker exited early:\n{read_log()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the Celery worker did not start in 60s:\n{read_log()}")
            time.sleep(0.2)
        yield read_log
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stopped.append(read_log())
        log.close()
        os.unlink(log.name)
        schedule.close()
        for leftover in Path(schedule.name).parent.glob(Path(schedule.name).name + "*"):
            leftover.unlink(missing_ok=True)


def wait_until(condition: Callable[[], bool], *, timeout: float = 30, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)
