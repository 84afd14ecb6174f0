"""Subscriptions over the log: the runner, retries, dead letters and order, on a frozen clock.

The tests drive the runner themselves (``run_until_idle``, ``run_segment``, the worker command)
with the after-commit runner of the test settings switched off, so each step is visible.
"""

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
from apps.events.dead_letters import retry_dead
from apps.events.lag import status
from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent, SubscriptionCheckpoint
from apps.events.registry import registry
from apps.events.retry import RetryPolicy, use_policy
from apps.events.subscriptions import HandlingOutcome, run_until_idle
from shared import clock

pytestmark = pytest.mark.django_db(transaction=True)


@dataclass(frozen=True, kw_only=True)
class ThingHappened(DomainEvent):
    event_type: ClassVar[str] = "ThingHappened"
    aggregate_type: ClassVar[str] = "thing"

    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ThingNoted(DomainEvent):
    """What the writing handler appends, once per handled event (its id comes from the event)."""

    event_type: ClassVar[str] = "ThingNoted"
    aggregate_type: ClassVar[str] = "thing-note"


class Behaviour:
    """What the test handlers do; set by each test."""

    failures_left: dict[str, int] = {}
    calls: dict[str, list[str]] = {}
    crash_on: set[str] = set()


def make_handler(name: str) -> type:
    class Handler:
        def handle(self, event: EventEnvelope) -> None:
            Behaviour.calls.setdefault(name, []).append(event.payload["note"])
            if event.payload["note"].startswith(f"{name}:fails"):
                raise RuntimeError(f"{name} is broken")
            left = Behaviour.failures_left.get(name, 0)  # -1: forever
            if left != 0:
                Behaviour.failures_left[name] = left - 1
                raise RuntimeError(f"{name} is broken")

    return Handler


class Writer:
    """Appends one ThingNoted per event, keyed by the event: a second run would conflict."""

    def handle(self, event: EventEnvelope) -> None:
        if event.payload["note"] in Behaviour.crash_on:
            Behaviour.crash_on.discard(event.payload["note"])
            raise KeyboardInterrupt("the process dies in the middle of the batch")
        noted = uuid.uuid5(uuid.NAMESPACE_URL, str(event.event_id))
        store.append([ThingNoted(aggregate_id=noted)], expected_version=0)


HANDLERS = ("test.first", "test.second")


@pytest.fixture(autouse=True)
def test_handlers(settings: Any) -> Iterator[None]:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    for name in HANDLERS:
        registry.register(name, frozenset({ThingHappened.event_type}), make_handler(name))
    Behaviour.failures_left, Behaviour.calls, Behaviour.crash_on = {}, {}, set()
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


def append_thing(note: str = "", aggregate_id: uuid.UUID | None = None, version: int = 0) -> Any:
    with transaction.atomic():
        (event,) = store.append(
            [ThingHappened(aggregate_id=aggregate_id or uuid.uuid4(), note=note)],
            expected_version=version,
        )
    event.refresh_from_db()  # its position is given at commit
    return event


def parked(name: str) -> ParkedEvent:
    return ParkedEvent.objects.get(subscription=name)


def test_appending_writes_nothing_per_handler_and_the_runner_handles_each_subscription_once() -> (
    None
):
    event = append_thing("a")
    assert event.position is not None
    assert Behaviour.calls == {}
    assert not ParkedEvent.objects.exists()
    # Its two handlers, and the subscriptions to every event (the outbound fan-out), once each.
    readers = registry.handler_names_for(ThingHappened.event_type)
    assert {"test.first", "test.second"} < set(readers)
    assert run_until_idle() == len(readers)
    assert Behaviour.calls == {"test.first": ["a"], "test.second": ["a"]}
    checkpoints = SubscriptionCheckpoint.objects.filter(subscription__in=HANDLERS)
    assert {c.position for c in checkpoints if c.position} == {event.position}
    # Handled events are not handled again.
    assert run_until_idle() == 0
    assert Behaviour.calls == {"test.first": ["a"], "test.second": ["a"]}


def test_an_always_failing_handler_is_tried_four_times_with_growing_capped_delays_then_dead(
    staff_client: Any,
) -> None:
    Behaviour.failures_left["test.first"] = -1  # fails forever
    with clock.frozen_clock() as frozen:
        append_thing("a")
        run_until_idle()
        first = parked("test.first")
        waits = []
        while first.status == ParkedStatus.PARKED:
            waits.append(first.next_attempt_at - frozen.now())
            # Not due yet: the runner leaves it alone.
            assert run_until_idle() == 0
            frozen.set(first.next_attempt_at)
            assert run_until_idle() == 1
            first.refresh_from_db()
        assert first.status == ParkedStatus.DEAD
        assert first.attempts == 4
        assert len(Behaviour.calls["test.first"]) == 4
        # base 10s doubling, half-jittered at 0.5 (→ 75% of the full delay), capped at 25s.
        assert waits == [timedelta(seconds=7.5), timedelta(seconds=15), timedelta(seconds=18.75)]
        assert "RuntimeError: test.first is broken" in first.last_error
        assert "Traceback" in first.last_traceback
        assert first.dead_at == frozen.now()

        # The other subscription ran once and is not re-run by the retries.
        assert Behaviour.calls["test.second"] == ["a"]
        assert not ParkedEvent.objects.filter(subscription="test.second").exists()

        listed = staff_client.get("/api/v1/events/dead-letters/").json()["results"]
        assert [(d["id"], d["handler"], d["attempts"]) for d in listed] == [
            (first.id, "test.first", 4)
        ]

        # An operator fixes the cause and retries: it runs exactly once more and succeeds.
        Behaviour.failures_left["test.first"] = 0
        response = staff_client.post(f"/api/v1/events/dead-letters/{first.id}/retry/")
        assert response.status_code == 200
        assert response.json()["outcome"] == "succeeded"
        assert response.json()["delivery"]["status"] == "resolved"
        again = staff_client.post(f"/api/v1/events/dead-letters/{first.id}/retry/")
        assert again.json()["outcome"] == "skipped"
        assert len(Behaviour.calls["test.first"]) == 5
        assert parked("test.first").status == ParkedStatus.RESOLVED
        assert staff_client.get("/api/v1/events/dead-letters/").json()["results"] == []


def test_a_handler_that_fails_once_succeeds_on_the_first_retry() -> None:
    Behaviour.failures_left["test.first"] = 1
    with clock.frozen_clock() as frozen:
        append_thing("a")
        run_until_idle()
        assert (parked("test.first").status, parked("test.first").attempts) == ("parked", 1)
        frozen.advance(timedelta(seconds=10))
        assert run_until_idle() == 1
    assert not ParkedEvent.objects.exists()
    assert Behaviour.calls == {"test.first": ["a", "a"], "test.second": ["a"]}


def test_a_manual_retry_that_fails_again_stays_dead_with_the_new_error() -> None:
    Behaviour.failures_left["test.first"] = -1
    use_policy(RetryPolicy(max_retries=0))
    append_thing("a")
    run_until_idle()
    first = parked("test.first")
    assert first.status == ParkedStatus.DEAD
    assert retry_dead(first.id) == HandlingOutcome.DEAD
    first.refresh_from_db()
    assert (first.status, first.attempts) == (ParkedStatus.DEAD, 2)


def test_an_operator_retry_leaves_an_event_that_is_not_dead_alone() -> None:
    Behaviour.failures_left["test.first"] = -1
    append_thing("a")
    run_until_idle()
    first = parked("test.first")
    assert retry_dead(first.id) == HandlingOutcome.SKIPPED
    first.refresh_from_db()
    assert (first.status, first.attempts) == (ParkedStatus.PARKED, 1)
    assert len(Behaviour.calls["test.first"]) == 1


def test_events_committed_while_no_runner_ran_are_handled_by_the_worker() -> None:
    # The process that committed "dies": nothing ran. The log keeps the event; the worker reads it.
    append_thing("a")
    assert Behaviour.calls == {}
    call_command("worker", "--once")
    assert Behaviour.calls == {"test.first": ["a"], "test.second": ["a"]}


def test_a_rolled_back_transaction_causes_nothing() -> None:
    def failing_command() -> None:
        with transaction.atomic():
            store.append([ThingHappened(aggregate_id=uuid.uuid4())], expected_version=0)
            raise RuntimeError("the command failed after appending")

    with pytest.raises(RuntimeError):
        failing_command()
    assert StoredEvent.objects.count() == 0
    assert run_until_idle() == 0
    assert Behaviour.calls == {}


def test_after_a_real_commit_the_test_runner_runs_every_subscription_once(settings: Any) -> None:
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = True
    append_thing("a")
    assert Behaviour.calls == {"test.first": ["a"], "test.second": ["a"]}
    assert run_until_idle() == 0


def test_a_failing_event_holds_back_later_events_of_its_partition_but_not_others() -> None:
    order, other = uuid.uuid4(), uuid.uuid4()
    with clock.frozen_clock() as frozen:
        append_thing("test.first:fails", aggregate_id=order)
        append_thing("later, same order", aggregate_id=order, version=1)
        append_thing("other order", aggregate_id=other)
        run_until_idle()
        # The other order went through; the failed order's later event waits behind it.
        assert sorted(Behaviour.calls["test.first"]) == ["other order", "test.first:fails"]
        waiting = ParkedEvent.objects.get(subscription="test.first", attempts=0)
        assert waiting.last_error.startswith("waiting for an earlier event")
        # Due with the event it waits for, not before.
        assert waiting.next_attempt_at == parked_first(order).next_attempt_at
        handled_by_second = Behaviour.calls["test.second"]
        assert sorted(handled_by_second) == ["later, same order", "other order", "test.first:fails"]
        # Within one order, the log's order.
        assert handled_by_second.index("test.first:fails") < handled_by_second.index(
            "later, same order"
        )
        # The cause is fixed: at the retry both run, in the log's order.
        Behaviour.calls["test.first"] = []
        make_handler_pass("test.first")
        frozen.advance(timedelta(seconds=10))
        run_until_idle()
    assert Behaviour.calls["test.first"] == ["test.first:fails", "later, same order"]
    assert not ParkedEvent.objects.exists()


def parked_first(aggregate_id: uuid.UUID) -> ParkedEvent:
    return ParkedEvent.objects.filter(
        subscription="test.first", event__aggregate_id=aggregate_id
    ).earliest("position")


def make_handler_pass(name: str) -> None:
    def handle(self: Any, event: EventEnvelope) -> None:
        Behaviour.calls.setdefault(name, []).append(event.payload["note"])

    registry.unregister(name)
    registry.register(
        name, frozenset({ThingHappened.event_type}), type("Fixed", (), {"handle": handle})
    )


def test_a_crash_in_the_middle_of_a_batch_repeats_the_batch_without_doing_anything_twice() -> None:
    registry.register("test.writer", frozenset({ThingHappened.event_type}), Writer)
    try:
        # One order's events: one segment, one batch.
        order = uuid.uuid4()
        for version, note in enumerate(("one", "two", "three")):
            append_thing(note, aggregate_id=order, version=version)
        Behaviour.crash_on = {"two"}
        with pytest.raises(KeyboardInterrupt):
            run_until_idle()
        # The batch rolled back: nothing noted, the checkpoint did not move.
        assert StoredEvent.objects.filter(event_type="ThingNoted").count() == 0
        run_until_idle()
        assert StoredEvent.objects.filter(event_type="ThingNoted").count() == 3
        assert not ParkedEvent.objects.filter(subscription="test.writer").exists()
    finally:
        registry.unregister("test.writer")


def test_events_caused_by_a_handler_carry_its_causation_and_correlation(settings: Any) -> None:
    from tests.support.probe import ProbeHandled, send_probe

    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = True
    probe_id = send_probe()
    probe = StoredEvent.objects.get(aggregate_id=probe_id)
    handled = StoredEvent.objects.get(event_type=ProbeHandled.event_type)
    assert handled.metadata["causation_id"] == str(probe.event_id)
    assert handled.metadata["correlation_id"] == probe.metadata["correlation_id"]


def test_retry_dead_letters_command_filters_by_subscription() -> None:
    Behaviour.failures_left = {"test.first": -1, "test.second": -1}
    use_policy(RetryPolicy(max_retries=0))
    append_thing("a")
    run_until_idle()
    assert set(ParkedEvent.objects.values_list("status", flat=True)) == {"dead"}
    Behaviour.failures_left = {}
    call_command("retry_dead_letters", "--handler", "test.second")
    assert parked("test.second").status == ParkedStatus.RESOLVED
    assert parked("test.first").status == ParkedStatus.DEAD
    call_command("retry_dead_letters")
    assert parked("test.first").status == ParkedStatus.RESOLVED


def test_the_admin_action_retries_the_selected_dead_events(staff: Any, client: Any) -> None:
    staff.is_superuser = True
    staff.save()
    Behaviour.failures_left = {"test.first": -1}
    use_policy(RetryPolicy(max_retries=0))
    append_thing("a")
    run_until_idle()
    dead = parked("test.first")
    assert dead.status == ParkedStatus.DEAD
    Behaviour.failures_left = {}
    client.force_login(staff)
    response = client.post(
        "/admin/events/parkedevent/",
        {"action": "retry_selected", "_selected_action": [dead.id]},
        follow=True,
    )
    assert response.status_code == 200
    assert "1 succeeded" in response.content.decode()
    assert parked("test.first").status == ParkedStatus.RESOLVED


def test_lag_parked_and_dead_counts_are_visible_to_staff_and_operators(
    staff_client: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    Behaviour.failures_left = {"test.first": -1}
    use_policy(RetryPolicy(max_retries=0))
    append_thing("a")
    append_thing("b")

    def rows() -> dict[str, tuple[int, int, int]]:
        totals: dict[str, tuple[int, int, int]] = {}
        for row in status():
            if row.subscription in HANDLERS:
                behind, parked_count, dead = totals.get(row.subscription, (0, 0, 0))
                totals[row.subscription] = (
                    behind + row.behind,
                    parked_count + row.parked,
                    dead + row.dead,
                )
        return totals

    assert rows() == {"test.first": (2, 0, 0), "test.second": (2, 0, 0)}
    run_until_idle()
    assert rows() == {"test.first": (0, 0, 2), "test.second": (0, 0, 0)}
    body = staff_client.get("/api/v1/events/subscriptions/").json()
    mine = [s for s in body["segments"] if s["subscription"] == "test.first"]
    assert sum(s["dead"] for s in mine) == 2
    assert body["head"] == StoredEvent.objects.order_by("-position").first().position  # type: ignore[union-attr]
    call_command("subscriptions")
    out = capsys.readouterr().out
    assert "test.first" in out
    assert "log head" in out


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


def test_a_tampered_dead_letter_cursor_is_400_not_500(staff_client: Any) -> None:
    import base64

    cursor = base64.b64encode(b"o=0&r=0&p=not-a-number").decode()
    response = staff_client.get(f"/api/v1/events/dead-letters/?cursor={cursor}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "cursor" in response.json()["errors"]
