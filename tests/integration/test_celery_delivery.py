"""The Celery backend with a real worker process and the real Redis broker."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from django.conf import LazySettings
from rest_framework.test import APIClient

from apps.events.models import Delivery, DeliveryStatus, StoredEvent
from apps.events.tasks import sweep_deliveries_task
from core.celery import app as celery_app
from tests.integration.celery_worker import running_worker, wait_until
from tests.support.probe import ProbeHandled, send_probe

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.celery,
    pytest.mark.django_db(transaction=True),
]


@pytest.fixture
def worker(settings: LazySettings) -> Iterator[Callable[[], str]]:
    settings.OMS_EVENT_BACKEND = "celery"
    assert not getattr(settings, "CELERY_TASK_ALWAYS_EAGER", False)
    with running_worker(
        extra_env={
            "OMS_DELIVERY_RETRY_BASE_SECONDS": "0.2",
            "OMS_DELIVERY_RETRY_CAP_SECONDS": "0.5",
        }
    ) as log:
        yield log


def probe_delivery() -> Delivery:
    return Delivery.objects.get(handler="probe.record")


def test_a_committed_event_is_handled_by_the_worker(worker: Callable[[], str]) -> None:
    send_probe()
    wait_until(
        lambda: StoredEvent.objects.filter(event_type=ProbeHandled.event_type).exists(),
        what="the worker to run the probe handler",
    )
    delivery = probe_delivery()
    wait_until(lambda: probe_delivery().status == DeliveryStatus.SUCCEEDED, what="success mark")
    delivery.refresh_from_db()
    assert delivery.attempts == 1
    assert StoredEvent.objects.filter(event_type=ProbeHandled.event_type).count() == 1
    assert "events.run_delivery" in worker()


def test_a_failing_handler_is_retried_by_the_worker_and_lands_in_dead_letters(
    worker: Callable[[], str], staff_client: APIClient
) -> None:
    send_probe(mode="fail")
    wait_until(
        lambda: probe_delivery().status == DeliveryStatus.DEAD,
        timeout=45,
        what="four failed attempts",
    )
    delivery = probe_delivery()
    assert delivery.attempts == 4
    assert "probe asked to fail" in delivery.last_error
    listed = staff_client.get("/api/v1/events/dead-letters/").json()["results"]
    assert [d["id"] for d in listed] == [delivery.id]
    assert not StoredEvent.objects.filter(event_type=ProbeHandled.event_type).exists()


def test_a_delivery_lost_by_the_broker_is_re_enqueued_by_the_beat_sweeper_task(
    settings: LazySettings,
) -> None:
    settings.OMS_EVENT_BACKEND = "celery"
    send_probe()  # committed and enqueued, but no worker is running yet...
    assert celery_app.control.purge() >= 1  # ...and the broker loses the task
    assert probe_delivery().status == DeliveryStatus.PENDING
    with running_worker(extra_env={"OMS_SWEEPER_GRACE_SECONDS": "0"}):
        sweep_deliveries_task.apply_async()  # what celery beat sends every few seconds
        wait_until(
            lambda: probe_delivery().status == DeliveryStatus.SUCCEEDED,
            what="the sweeper to re-enqueue the lost delivery",
        )
    assert StoredEvent.objects.filter(event_type=ProbeHandled.event_type).count() == 1


def test_the_sweeper_is_scheduled_by_celery_beat(settings: LazySettings) -> None:
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert any(entry["task"] == sweep_deliveries_task.name for entry in schedule.values())


def test_a_retry_due_much_later_is_not_parked_in_the_broker(settings: LazySettings) -> None:
    """Redis hands an unacknowledged task out again after its visibility timeout; a retry due in
    ten minutes must therefore wait in the database, not in the broker or the worker."""
    settings.OMS_EVENT_BACKEND = "celery"
    with running_worker(
        extra_env={
            "OMS_DELIVERY_RETRY_BASE_SECONDS": "600",
            "OMS_CELERY_MAX_COUNTDOWN_SECONDS": "60",
        }
    ):
        send_probe(mode="fail")
        wait_until(
            lambda: probe_delivery().status == DeliveryStatus.RETRYING, what="the first failure"
        )
        inspector = celery_app.control.inspect(timeout=2)
        scheduled = inspector.scheduled() or {}
        reserved = inspector.reserved() or {}
        assert all(not tasks for tasks in scheduled.values()), scheduled
        assert all(not tasks for tasks in reserved.values()), reserved
    delivery = probe_delivery()
    assert delivery.attempts == 1
    assert (delivery.next_attempt_at - delivery.updated_at).total_seconds() > 60


def test_a_retry_due_soon_is_sent_with_a_countdown(settings: LazySettings) -> None:
    settings.OMS_EVENT_BACKEND = "celery"
    with running_worker(
        extra_env={"OMS_DELIVERY_RETRY_BASE_SECONDS": "1", "OMS_DELIVERY_MAX_RETRIES": "1"}
    ):
        send_probe(mode="fail")
        wait_until(lambda: probe_delivery().status == DeliveryStatus.DEAD, what="the retry")
    assert probe_delivery().attempts == 2
