"""The outbox, the runner, retries and dead letters, with the inline backend and a frozen clock."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import pytest
from django.core.management import call_command
from django.db import transaction

from apps.events import store
from apps.events.base import DomainEvent, EventEnvelope
from apps.events.dispatcher import due_delivery_ids, sweep
from apps.events.models import Delivery, DeliveryStatus, StoredEvent
from apps.events.registry import registry
from apps.events.retry import RetryPolicy, use_policy
from apps.events.runner import Outcome, run_delivery
from apps.events.services import retry_dead_letter
from shared import clock


@dataclass(frozen=True, kw_only=True)
class ThingHappened(DomainEvent):
    event_type: ClassVar[str] = "ThingHappened"
    aggregate_type: ClassVar[str] = "thing"

    note: str = ""


class Behaviour:
    """What the test handlers do; set by each test."""

    failures_left: dict[str, int] = {}
    calls: dict[str, list[uuid.UUID]] = {}


def make_handler(name: str) -> type:
    class Handler:
        def handle(self, event: EventEnvelope) -> None:
            Behaviour.calls.setdefault(name, []).append(event.event_id)
            left = Behaviour.failures_left.get(name, 0)
            if left != 0:
                Behaviour.failures_left[name] = left - 1
                raise RuntimeError(f"{name} is broken")

    return Handler


HANDLERS = ("test.first", "test.second")


@pytest.fixture(autouse=True)
def test_handlers() -> Iterator[None]:
    for name in HANDLERS:
        registry.register(name, frozenset({ThingHappened.event_type}), make_handler(name))
    Behaviour.failures_left = {}
    Behaviour.calls = {}
    use_policy(
        RetryPolicy(
            max_retries=3,
            base=timedelta(seconds=10),
            cap=timedelta(seconds=25),
            random_fraction=lambda: 0.5,
        )
    )
    yield
    for name in HANDLERS:
        registry.unregister(name)


def append_thing() -> StoredEvent:
    with transaction.atomic():
        (event,) = store.append([ThingHappened(aggregate_id=uuid.uuid4())], expected_version=0)
    return event


def delivery(name: str) -> Delivery:
    return Delivery.objects.get(handler=name)


@pytest.mark.django_db
def test_appending_writes_one_delivery_per_subscribed_handler(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        event = append_thing()
    rows = Delivery.objects.filter(event=event).order_by("handler")
    assert [(d.handler, d.status, d.attempts) for d in rows] == [
        ("test.first", "pending", 0),
        ("test.second", "pending", 0),
    ]
    assert len(callbacks) == 1  # dispatch waits for the commit


@pytest.mark.django_db
def test_an_always_failing_handler_is_tried_four_times_with_growing_capped_delays_then_dead(
    django_capture_on_commit_callbacks: Any, staff_client: Any
) -> None:
    Behaviour.failures_left["test.first"] = -1  # fails forever
    with clock.frozen_clock() as frozen:
        start = frozen.now()
        with django_capture_on_commit_callbacks(execute=True):
            append_thing()
        first = delivery("test.first")
        waits = []
        while first.status == DeliveryStatus.RETRYING:
            waits.append(first.next_attempt_at - frozen.now())
            # Not due yet: the sweeper leaves it alone.
            assert first.id not in due_delivery_ids()
            frozen.set(first.next_attempt_at)
            assert first.id in due_delivery_ids()
            assert run_delivery(first.id) in (Outcome.FAILED, Outcome.DEAD)
            first.refresh_from_db()
        assert first.status == DeliveryStatus.DEAD
        assert first.attempts == 4
        assert len(Behaviour.calls["test.first"]) == 4
        # base 10s doubling, half-jittered at 0.5 (→ 75% of the full delay), capped at 25s.
        assert waits == [timedelta(seconds=7.5), timedelta(seconds=15), timedelta(seconds=18.75)]
        assert "RuntimeError: test.first is broken" in first.last_error
        assert "Traceback" in first.last_traceback
        assert first.dead_at == frozen.now()
        assert frozen.now() > start

        # The other handler of the same event ran once and is not re-run by the retries.
        assert delivery("test.second").status == DeliveryStatus.SUCCEEDED
        assert len(Behaviour.calls["test.second"]) == 1

        listed = staff_client.get("/api/v1/events/dead-letters/").json()["results"]
        assert [(d["id"], d["handler"], d["attempts"]) for d in listed] == [
            (first.id, "test.first", 4)
        ]

        # An operator fixes the cause and retries: it runs exactly once more and succeeds.
        Behaviour.failures_left["test.first"] = 0
        response = staff_client.post(f"/api/v1/events/dead-letters/{first.id}/retry/")
        assert response.status_code == 200
        assert response.json()["outcome"] == "succeeded"
        again = staff_client.post(f"/api/v1/events/dead-letters/{first.id}/retry/")
        assert again.json()["outcome"] == "skipped"
        assert len(Behaviour.calls["test.first"]) == 5
        assert delivery("test.first").status == DeliveryStatus.SUCCEEDED
        assert staff_client.get("/api/v1/events/dead-letters/").json()["results"] == []


@pytest.mark.django_db
def test_a_handler_that_fails_once_succeeds_on_the_first_retry(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Behaviour.failures_left["test.first"] = 1
    with clock.frozen_clock() as frozen:
        with django_capture_on_commit_callbacks(execute=True):
            append_thing()
        assert delivery("test.first").status == DeliveryStatus.RETRYING
        frozen.advance(timedelta(seconds=10))
        assert sweep() == 1
    first, second = delivery("test.first"), delivery("test.second")
    assert (first.status, first.attempts) == (DeliveryStatus.SUCCEEDED, 2)
    assert first.last_error == ""
    assert (second.status, second.attempts) == (DeliveryStatus.SUCCEEDED, 1)
    assert len(Behaviour.calls["test.second"]) == 1


@pytest.mark.django_db
def test_a_manual_retry_that_fails_again_stays_dead_with_the_new_error(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Behaviour.failures_left["test.first"] = -1
    use_policy(RetryPolicy(max_retries=0))
    with django_capture_on_commit_callbacks(execute=True):
        append_thing()
    first = delivery("test.first")
    assert first.status == DeliveryStatus.DEAD
    assert retry_dead_letter(first.id) == Outcome.DEAD
    first.refresh_from_db()
    assert (first.status, first.attempts) == (DeliveryStatus.DEAD, 2)


@pytest.mark.django_db
def test_events_committed_but_never_dispatched_are_delivered_by_the_sweeper(
    django_capture_on_commit_callbacks: Any,
) -> None:
    with clock.frozen_clock() as frozen:
        # The process "dies" right after commit: the dispatch callback never runs.
        with django_capture_on_commit_callbacks(execute=False):
            append_thing()
        assert Behaviour.calls == {}
        # Within the grace period the sweeper leaves fresh deliveries to their dispatcher.
        assert due_delivery_ids() == []
        frozen.advance(timedelta(minutes=1))
        call_command("worker", "--once")
    assert {d.status for d in Delivery.objects.all()} == {DeliveryStatus.SUCCEEDED}
    assert sorted(Behaviour.calls) == ["test.first", "test.second"]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_delivers_nothing() -> None:
    def failing_command() -> None:
        with transaction.atomic():
            store.append([ThingHappened(aggregate_id=uuid.uuid4())], expected_version=0)
            raise RuntimeError("the command failed after appending")

    with pytest.raises(RuntimeError):
        failing_command()
    assert StoredEvent.objects.count() == 0
    assert Delivery.objects.count() == 0
    assert Behaviour.calls == {}


@pytest.mark.django_db(transaction=True)
def test_after_a_real_commit_the_inline_backend_runs_every_handler_once() -> None:
    event = append_thing()
    assert Behaviour.calls == {"test.first": [event.event_id], "test.second": [event.event_id]}
    assert set(Delivery.objects.values_list("status", flat=True)) == {"succeeded"}
    # A succeeded delivery is never run again by the machinery.
    assert run_delivery(delivery("test.first").id) == Outcome.SKIPPED
    assert len(Behaviour.calls["test.first"]) == 1


@pytest.mark.django_db
def test_events_caused_by_a_handler_carry_its_causation_and_correlation(
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.support.probe import ProbeHandled, send_probe

    with django_capture_on_commit_callbacks(execute=True):
        probe_id = send_probe()
    probe = StoredEvent.objects.get(aggregate_id=probe_id)
    handled = StoredEvent.objects.get(event_type=ProbeHandled.event_type)
    assert handled.metadata["causation_id"] == str(probe.event_id)
    assert handled.metadata["correlation_id"] == probe.metadata["correlation_id"]


@pytest.mark.django_db
def test_retry_dead_letters_command_filters_by_handler(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Behaviour.failures_left = {"test.first": -1, "test.second": -1}
    use_policy(RetryPolicy(max_retries=0))
    with django_capture_on_commit_callbacks(execute=True):
        append_thing()
    assert set(Delivery.objects.values_list("status", flat=True)) == {"dead"}
    Behaviour.failures_left = {}
    call_command("retry_dead_letters", "--handler", "test.second")
    assert delivery("test.second").status == DeliveryStatus.SUCCEEDED
    assert delivery("test.first").status == DeliveryStatus.DEAD
    call_command("retry_dead_letters")
    assert delivery("test.first").status == DeliveryStatus.SUCCEEDED


@pytest.mark.django_db
def test_the_admin_action_retries_the_selected_dead_deliveries(
    django_capture_on_commit_callbacks: Any, staff: Any, client: Any
) -> None:
    staff.is_superuser = True
    staff.save()
    Behaviour.failures_left = {"test.first": -1}
    use_policy(RetryPolicy(max_retries=0))
    with django_capture_on_commit_callbacks(execute=True):
        append_thing()
    dead = delivery("test.first")
    assert dead.status == DeliveryStatus.DEAD
    Behaviour.failures_left = {}
    client.force_login(staff)
    response = client.post(
        "/admin/events/delivery/",
        {"action": "retry_selected", "_selected_action": [dead.id]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 succeeded" in response.content.decode()
    assert delivery("test.first").status == DeliveryStatus.SUCCEEDED


@pytest.mark.django_db
def test_the_worker_runs_registered_periodic_jobs_at_their_interval() -> None:
    from apps.events.periodic import periodic_job, registered_jobs, run_due_jobs

    runs: list[int] = []
    periodic_job("test.tick", every_seconds=10)(lambda: runs.append(1))
    assert "test.tick" in registered_jobs()
    assert "idempotency.purge_expired_keys" in registered_jobs()
    run_due_jobs(now=1000.0)
    run_due_jobs(now=1005.0)
    run_due_jobs(now=1010.0)
    assert len(runs) == 2


@pytest.mark.django_db
def test_an_operator_retry_leaves_a_delivery_that_is_not_dead_alone(
    django_capture_on_commit_callbacks: Any,
) -> None:
    Behaviour.failures_left["test.first"] = -1
    with django_capture_on_commit_callbacks(execute=True):
        append_thing()
    first = delivery("test.first")
    assert first.status == DeliveryStatus.RETRYING
    assert retry_dead_letter(first.id) == Outcome.SKIPPED
    first.refresh_from_db()
    assert (first.status, first.attempts) == (DeliveryStatus.RETRYING, 1)
    assert len(Behaviour.calls["test.first"]) == 1


@pytest.mark.django_db
def test_a_deferred_delivery_is_retried_soon_without_spending_an_attempt(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    from apps.events.runner import DeferDelivery

    class Waits:
        def handle(self, event: EventEnvelope) -> None:
            raise DeferDelivery("its order is not there yet", retry_in_seconds=2)

    registry.register("test.waits", frozenset({ThingHappened.event_type}), Waits)
    settings.OMS_DELIVERY_MAX_DEFER_SECONDS = 60
    try:
        with clock.frozen_clock() as frozen:
            with django_capture_on_commit_callbacks(execute=True):
                append_thing()
            waits = delivery("test.waits")
            assert (waits.status, waits.attempts) == (DeliveryStatus.RETRYING, 0)
            assert waits.next_attempt_at == frozen.now() + timedelta(seconds=2)
            assert waits.last_error.startswith("deferred:")
            frozen.advance(timedelta(seconds=2))
            assert run_delivery(waits.id) == Outcome.FAILED
            assert delivery("test.waits").attempts == 0
            # Past the deferral limit it is an ordinary failure that spends the retry budget.
            frozen.advance(timedelta(seconds=61))
            assert run_delivery(waits.id) == Outcome.FAILED
            assert delivery("test.waits").attempts == 1
    finally:
        registry.unregister("test.waits")


@pytest.mark.django_db
def test_a_tampered_dead_letter_cursor_is_400_not_500(staff_client: Any) -> None:
    import base64

    cursor = base64.b64encode(b"o=0&r=0&p=not-a-number").decode()
    response = staff_client.get(f"/api/v1/events/dead-letters/?cursor={cursor}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["errors"]


@pytest.mark.django_db
def test_the_sweeper_does_not_hand_the_same_delivery_over_again_within_its_lease(
    django_capture_on_commit_callbacks: Any, settings: Any
) -> None:
    settings.OMS_SWEEPER_LEASE_SECONDS = 60
    Behaviour.failures_left["test.first"] = -1
    with clock.frozen_clock() as frozen:
        with django_capture_on_commit_callbacks(execute=False):
            append_thing()  # never dispatched: both deliveries are lost
        frozen.advance(timedelta(minutes=1))
        # The first sweep runs them (inline); test.first fails and is due again in 7.5 s.
        assert sweep() == 2
        frozen.advance(timedelta(seconds=10))
        assert due_delivery_ids() == [delivery("test.first").id]
        # Handed over less than a lease ago: not sent again yet, even though it is due.
        assert sweep() == 0
        frozen.advance(timedelta(seconds=60))
        assert sweep() == 1
