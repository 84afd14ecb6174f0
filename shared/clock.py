"""An injectable clock.

Domain code asks :func:`now` for the time instead of calling ``timezone.now()`` directly, so that
tests can freeze or advance time (retry back-off, webhook timestamps, idempotency key expiry)
without sleeping.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class FrozenClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)
        if self._now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment


_override = threading.local()


def now() -> datetime:
    """The current time, timezone-aware UTC."""
    clock: FrozenClock | None = getattr(_override, "clock", None)
    if clock is not None:
        return clock.now()
    return datetime.now(UTC)


@contextmanager
def frozen_clock(start: datetime | None = None) -> Iterator[FrozenClock]:
    """Freeze :func:`now` for the current thread until the block ends."""
    clock = FrozenClock(start)
    previous = getattr(_override, "clock", None)
    _override.clock = clock
    try:
        yield clock
    finally:
        _override.clock = previous
