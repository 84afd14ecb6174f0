from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from apps.events.retry import RetryPolicy


def test_delays_grow_exponentially_until_the_cap_then_stop() -> None:
    policy = RetryPolicy(
        max_retries=6,
        base=timedelta(seconds=1),
        cap=timedelta(seconds=10),
        random_fraction=lambda: 1.0,
    )
    delays = [policy.delay_after(n) for n in range(1, 8)]
    assert delays[:6] == [timedelta(seconds=s) for s in (1, 2, 4, 8, 10, 10)]
    assert delays[6] is None


@pytest.mark.parametrize("fraction", [0.0, 0.25, 0.999])
def test_jitter_stays_within_half_and_full_delay(fraction: float) -> None:
    policy = RetryPolicy(base=timedelta(seconds=4), random_fraction=lambda: fraction)
    for attempt, full in ((1, 4), (2, 8), (3, 16)):
        delay = policy.delay_after(attempt)
        assert delay is not None
        assert timedelta(seconds=full / 2) <= delay <= timedelta(seconds=full)


def test_jittered_delays_never_shrink_from_one_attempt_to_the_next() -> None:
    policy = RetryPolicy(base=timedelta(seconds=2), cap=timedelta(seconds=60))
    for _ in range(200):
        delays = [policy.delay_after(n) or timedelta.max for n in (1, 2, 3)]
        assert delays == sorted(delays)


def test_after_max_retries_there_is_no_next_attempt() -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    policy = RetryPolicy(max_retries=3)
    assert policy.next_attempt_at(3, now) is not None
    assert policy.next_attempt_at(4, now) is None
