"""The subscriptions' backlog, as the figures read it: events behind, their age, parked and dead.

Everything here goes through :func:`apps.events.lag.status`, the product's own view of
where each (subscription, segment) stands, so a figure reports what an operator would see with
``manage.py subscriptions``. :func:`dispatch` does what Celery beat does on its schedule, for the
figures that want to say when the reactions start.
"""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True)
class Backlog:
    behind: int  # events of every subscription's types after its checkpoint, summed
    oldest_seconds: float  # age of the oldest event still behind (0 when none is)
    parked: int
    dead: int

    def describe(self) -> str:
        text = f"{self.behind} events behind"
        if self.behind:
            text += f" (oldest {self.oldest_seconds:.1f} s)"
        if self.parked or self.dead:
            text += f", {self.parked} parked, {self.dead} dead"
        return text


def backlog() -> Backlog:
    from apps.events.lag import status

    rows = status()
    ages = [row.oldest_behind_seconds for row in rows if row.oldest_behind_seconds is not None]
    return Backlog(
        behind=sum(row.behind for row in rows),
        oldest_seconds=max(ages, default=0.0),
        parked=sum(row.parked for row in rows),
        dead=sum(row.dead for row in rows),
    )


def dispatch() -> int:
    """One round of beat's ``events.dispatch_subscriptions``, sent from this process: a drain task
    for each segment with work (to the bench's queue). Returns how many were sent."""
    from apps.events.tasks import dispatch_subscriptions_task

    return int(dispatch_subscriptions_task())


def free_leases() -> None:
    """Forget the segments' dispatch leases (after the queue was purged, no task holds one)."""
    from apps.events.models import SubscriptionCheckpoint

    SubscriptionCheckpoint.objects.update(dispatched_at=None)


def wait_drained(
    seconds: float, *, poll: float = 0.25, dispatch_every: float | None = None
) -> tuple[float | None, Backlog]:
    """Wait until no subscription is behind (none parked either), at most ``seconds``.

    Returns the seconds it took (None when it did not happen in time) and the last backlog read.
    With ``dispatch_every`` this process also dispatches on that interval, as beat would.
    """
    started = time.monotonic()
    deadline = started + seconds
    next_dispatch = started
    while True:
        now = time.monotonic()
        if dispatch_every is not None and now >= next_dispatch:
            dispatch()
            next_dispatch = now + dispatch_every
        state = backlog()
        if state.behind == 0 and state.parked == 0:
            return time.monotonic() - started, state
        if time.monotonic() >= deadline:
            return None, state
        time.sleep(poll)
