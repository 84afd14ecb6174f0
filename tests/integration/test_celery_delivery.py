"""Subscriptions run by Celery: a real worker process (with beat) and the real Redis broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta

import pytest
from django.conf import LazySettings
from rest_framework.test import APIClient

from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent, SubscriptionCheckpoint
from apps.events.subscriptions import all_segments
from apps.events.tasks import dispatch_subscriptions_task
from shared import clock
from tests.integration.celery_worker import running_worker, wait_until
from tests.support.probe import ProbeHandled, send_probe

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture(autouse=True)
def _no_runner_in_the_test(settings: LazySettings) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False


@pytest.fixture
def worker() -> Iterator[Callable[[], str]]:
    with running_worker(
        extra_env={
            "OMS_DELIVERY_RETRY_BASE_SECONDS": "0.2",
            "OMS_DELIVERY_RETRY_CAP_SECONDS": "0.5",
        }
    ) as log:
        yield log


def handled() -> int:
    return StoredEvent.objects.filter(event_type=ProbeHandled.event_type).count()


def probe_parked() -> ParkedEvent:
    return ParkedEvent.objects.get(subscription="probe.record")


def test_a_committed_event_is_handled_by_a_drain_task_of_the_worker(
    worker: Callable[[], str],
) -> None:
    send_probe()
    wait_until(lambda: handled() == 1, what="the worker to run the probe handler")
    assert "events.drain_segment" in worker()
    assert "events.dispatch_subscriptions" in worker()
    assert not ParkedEvent.objects.exists()
    # Handled once, however many dispatches run meanwhile.
    wait_until(lambda: "events.dispatch_subscriptions" in worker(), what="more dispatches")
    assert handled() == 1


def test_a_failing_handler_is_retried_by_the_worker_and_lands_in_dead_letters(
    worker: Callable[[], str], staff_client: APIClient
) -> None:
    send_probe(mode="fail")
    wait_until(
        lambda: ParkedEvent.objects.filter(status=ParkedStatus.DEAD).exists(),
        timeout=45,
        what="four failed attempts",
    )
    parked = probe_parked()
    assert parked.attempts == 4
    assert "probe asked to fail" in parked.last_error
    listed = staff_client.get("/api/v1/events/dead-letters/").json()["results"]
    assert [d["id"] for d in listed] == [parked.id]
    assert handled() == 0


def test_a_drain_task_lost_by_the_broker_is_sent_again_after_its_lease() -> None:
    send_probe()
    # A dispatch "sent" a task for every segment a moment ago and the broker lost them all.
    now = clock.now()
    for key in all_segments():
        SubscriptionCheckpoint.objects.update_or_create(
            subscription=key.subscription,
            segment=key.segment,
            defaults={"position": 0, "updated_at": now, "dispatched_at": now},
        )
    with running_worker(extra_env={"OMS_SUBSCRIPTION_DISPATCH_LEASE_SECONDS": "3"}) as log:
        # Within the lease nothing is sent again...
        assert dispatch_subscriptions_task() == 0
        assert handled() == 0
        # ...after it, the worker's own beat dispatch sends a task and the event is handled.
        wait_until(lambda: handled() == 1, timeout=30, what="the lease to pass")
        assert "events.drain_segment" in log()


def test_the_dispatch_is_scheduled_by_celery_beat(settings: LazySettings) -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert any(entry["task"] == dispatch_subscriptions_task.name for entry in schedule.values())


def test_a_retry_due_much_later_waits_in_the_database_not_in_the_broker() -> None:
    """Redis hands an unacknowledged task out again after its visibility timeout; an event due
    for a retry in ten minutes must wait in the database, and no task is sent for it."""
    with running_worker(extra_env={"OMS_DELIVERY_RETRY_BASE_SECONDS": "600"}) as log:
        send_probe(mode="fail")
        wait_until(lambda: ParkedEvent.objects.exists(), what="the first failure")
        parked = probe_parked()
        assert parked.attempts == 1
        assert parked.next_attempt_at - parked.updated_at > timedelta(seconds=60)
        drains_before = log().count("events.drain_segment[")
        # Several dispatches later, nothing was sent for the parked event.
        wait_until(
            lambda: log().count("events.dispatch_subscriptions") >= 6, what="more dispatches"
        )
        assert log().count("events.drain_segment[") == drains_before
    assert probe_parked().attempts == 1
