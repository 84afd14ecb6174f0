"""The log is commit-ordered: a reader that follows ``after=`` never skips an event.

Eight writers append on their own connections and sleep a random while before they commit, so
transactions commit in another order than they inserted. A reader polls the event stream with
the last position it saw the whole time. It must end with every event exactly once, in
increasing positions. (Reading by insert ``sequence`` instead loses events here: a transaction
that inserted sequence 41 can commit after a reader moved past 42.)
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from apps.events import store
from apps.events.base import DomainEvent
from apps.events.models import StoredEvent

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

WRITERS = 8
TRANSACTIONS_PER_WRITER = 200  # one or two events each: about 2,400 events in all


@dataclass(frozen=True, kw_only=True)
class GapProbe(DomainEvent):
    """Appended by the writers of this test; no handler subscribes to it."""

    event_type: ClassVar[str] = "GapProbe"
    aggregate_type: ClassVar[str] = "gap-probe"


def write(seed: int, appended: list[uuid.UUID]) -> None:
    rng = random.Random(seed)
    try:
        for _ in range(TRANSACTIONS_PER_WRITER):
            aggregate_id = uuid.uuid4()
            events = [GapProbe(aggregate_id=aggregate_id) for _ in range(rng.choice((1, 2)))]
            with transaction.atomic():
                stored = store.append(events, expected_version=0)
                # Commit later than the insert, by a different amount each time.
                time.sleep(rng.uniform(0, 0.006))
            appended.extend(event.event_id for event in stored)
    finally:
        connection.close()


def follow(client: APIClient, writers_done: threading.Event, seen: list[dict[str, Any]]) -> None:
    after = 0
    try:
        while True:
            finished = writers_done.is_set()
            query = {"after": str(after), "event_type": "GapProbe", "page_size": "100"}
            page = client.get("/api/v1/events/", query).json()
            seen.extend(page["results"])
            after = page["next_after"]
            # One last full read after every writer committed, then stop.
            if finished and not page["results"]:
                return
    finally:
        connection.close()


def test_a_reader_following_after_sees_every_event_once_with_writers_committing_out_of_order(
    staff_client: APIClient, settings: Any
) -> None:
    # No subscription reads these events: running them after each commit would only slow the
    # writers down (the log's order is what is under test).
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    appended: list[uuid.UUID] = []
    seen: list[dict[str, Any]] = []
    writers_done = threading.Event()
    reader = threading.Thread(target=follow, args=(staff_client, writers_done, seen))
    writers = [threading.Thread(target=write, args=(seed, appended)) for seed in range(WRITERS)]
    reader.start()
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    writers_done.set()
    reader.join(timeout=120)
    assert not reader.is_alive()

    assert len(appended) >= 2000
    seen_ids = [uuid.UUID(event["event_id"]) for event in seen]
    assert len(seen_ids) == len(set(seen_ids)), "an event was read twice"
    assert set(seen_ids) == set(appended), "an event was skipped"
    positions = [event["position"] for event in seen]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    # The writers did commit out of insert order: positions and sequences disagree somewhere.
    rows = StoredEvent.objects.filter(event_type="GapProbe").order_by("position")
    sequences = list(rows.values_list("sequence", flat=True))
    assert sequences != sorted(sequences)
