"""Periodic jobs of the embedded worker.

Apps register small housekeeping functions here (purging expired keys, sending the provider
simulator's due webhooks) from a ``jobs.py`` module; ``manage.py worker`` runs each one when its
interval has passed. Under Celery the same functions run as beat tasks instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

logger = logging.getLogger(__name__)

Job = Callable[[], object]


@dataclass
class PeriodicJob:
    name: str
    every_seconds: float
    function: Job
    last_run: float = field(default=float("-inf"))

    def due(self, now: float) -> bool:
        return now - self.last_run >= self.every_seconds


_jobs: dict[str, PeriodicJob] = {}


def periodic_job(name: str, *, every_seconds: float) -> Callable[[Job], Job]:
    """Register ``function`` to run about every ``every_seconds`` in the embedded worker."""

    def register(function: Job) -> Job:
        _jobs[name] = PeriodicJob(name, every_seconds, function)
        return function

    return register


def run_due_jobs(now: float | None = None) -> int:
    """Run every job whose interval has passed; a failing job is logged and tried next time."""
    moment = time.monotonic() if now is None else now
    ran = 0
    for job in list(_jobs.values()):
        if not job.due(moment):
            continue
        job.last_run = moment
        try:
            job.function()
        except Exception:
            logger.exception("periodic job %s failed", job.name)
        ran += 1
    return ran


def registered_jobs() -> list[str]:
    return sorted(_jobs)
