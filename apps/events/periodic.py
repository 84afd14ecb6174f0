"""Periodic jobs: declared once per app, run by the embedded worker or by Celery beat alike.

Apps declare small housekeeping functions (purging expired keys, expiring overdue payments,
sending the provider simulator's due webhooks) in their ``jobs.py`` with :func:`periodic_job`:
a name, an interval and, when the job only applies in some set-ups, a condition.
``manage.py worker`` runs each one when its interval has passed; under Celery, beat sends the
task ``events.run_periodic_job`` with the job's name at the same interval (``core/celery.py``
reads :func:`beat_schedule`). ``manage.py describe`` lists them.
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
    # Whether the job applies in this set-up (read when a worker or beat starts, and each time
    # the embedded worker finds the job due).
    enabled: Callable[[], bool] = field(default=lambda: True)
    last_run: float = field(default=float("-inf"))

    def due(self, now: float) -> bool:
        return now - self.last_run >= self.every_seconds


_jobs: dict[str, PeriodicJob] = {}


def periodic_job(
    name: str, *, every_seconds: float, enabled: Callable[[], bool] | None = None
) -> Callable[[Job], Job]:
    """Declare ``function`` as the job ``name``, run about every ``every_seconds`` (while
    ``enabled()`` says so) by the embedded worker and by Celery beat."""

    def register(function: Job) -> Job:
        job = PeriodicJob(name, every_seconds, function)
        if enabled is not None:
            job.enabled = enabled
        _jobs[name] = job
        return function

    return register


def run_due_jobs(now: float | None = None) -> int:
    """Run every job whose interval has passed; a failing job is logged and tried next time."""
    moment = time.monotonic() if now is None else now
    ran = 0
    for job in list(_jobs.values()):
        if not job.due(moment) or not job.enabled():
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


def jobs() -> list[PeriodicJob]:
    """Every declared job, by name."""
    return [_jobs[name] for name in sorted(_jobs)]


def run_job(name: str) -> object:
    """Run the job ``name`` now (the body of the Celery task beat sends)."""
    job = _jobs.get(name)
    if job is None:
        raise LookupError(f"no periodic job is named {name!r}")
    if not job.enabled():
        return None
    return job.function()


RUN_PERIODIC_JOB_TASK = "events.run_periodic_job"


def beat_schedule() -> dict[str, dict[str, object]]:
    """Celery beat's entries for the enabled jobs: the task that runs one, at its interval."""
    return {
        f"periodic:{job.name}": {
            "task": RUN_PERIODIC_JOB_TASK,
            "schedule": job.every_seconds,
            "args": (job.name,),
        }
        for job in jobs()
        if job.enabled()
    }
