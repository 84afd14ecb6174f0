"""Retry policy: exponential back-off with jitter and a cap, then the dead-letter queue."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings


@dataclass(frozen=True)
class RetryPolicy:
    """After the n-th failed attempt, wait about ``base * 2**(n-1)`` (capped) before retrying.

    Jitter is "equal jitter": the wait is drawn from ``[d/2, d]``. That spreads retries of many
    deliveries that failed together (a database blip), and below the cap each next wait is at
    least as long as the previous one (at the cap they vary within ``[cap/2, cap]``). After
    ``max_retries`` retries have failed the delivery is dead.
    """

    max_retries: int = 3
    base: timedelta = timedelta(seconds=2)
    cap: timedelta = timedelta(minutes=5)
    random_fraction: Callable[[], float] = field(default=random.random, compare=False)

    def delay_after(self, failed_attempts: int) -> timedelta | None:
        """The wait after ``failed_attempts`` failures, or None when no retry is left."""
        if failed_attempts < 1:
            raise ValueError("failed_attempts counts from 1")
        if failed_attempts > self.max_retries:
            return None
        full = min(self.cap, self.base * (2 ** (failed_attempts - 1)))
        return full / 2 + (full / 2) * self.random_fraction()

    def next_attempt_at(self, failed_attempts: int, now: datetime) -> datetime | None:
        delay = self.delay_after(failed_attempts)
        return None if delay is None else now + delay


def policy_from_settings() -> RetryPolicy:
    return RetryPolicy(
        max_retries=settings.OMS_DELIVERY_MAX_RETRIES,
        base=timedelta(seconds=settings.OMS_DELIVERY_RETRY_BASE_SECONDS),
        cap=timedelta(seconds=settings.OMS_DELIVERY_RETRY_CAP_SECONDS),
    )


_policy: RetryPolicy | None = None


def current_policy() -> RetryPolicy:
    """The policy in force; tests swap it with :func:`use_policy`."""
    return _policy or policy_from_settings()


def use_policy(policy: RetryPolicy | None) -> None:
    global _policy
    _policy = policy
