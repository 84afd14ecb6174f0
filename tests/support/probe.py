"""Probe events and handlers used to test the delivery machinery itself.

They live outside every product app (apps/events knows no domain), are imported by the tests that
need them and, for the Celery suite, by the worker through ``--include``. Their side effects go
through the real event store, so a run can be observed from any process.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import ClassVar

from django.db import transaction

from apps.events import store
from apps.events.base import DomainEvent, EventEnvelope
from apps.events.decorators import event_handler

PROBE_AGGREGATE = "probe"


@dataclass(frozen=True, kw_only=True)
class ProbeSent(DomainEvent):
    """A probe: ``mode`` tells the probe handler how to behave."""

    event_type: ClassVar[str] = "ProbeSent"
    aggregate_type: ClassVar[str] = PROBE_AGGREGATE

    mode: str = "ok"  # "ok", "fail" (always raise) or "slow" (sleep, then succeed)


@dataclass(frozen=True, kw_only=True)
class ProbeHandled(DomainEvent):
    """Appended by the probe handler each time it really runs (under a new aggregate id)."""

    event_type: ClassVar[str] = "ProbeHandled"
    aggregate_type: ClassVar[str] = "probe-run"

    probe_event_id: uuid.UUID


@event_handler(ProbeSent, name="probe.record")
class RecordProbe:
    def handle(self, event: EventEnvelope) -> None:
        mode = event.payload.get("mode", "ok")
        if mode == "fail":
            raise RuntimeError("probe asked to fail")
        if mode == "slow":
            time.sleep(0.05)
        store.append(
            [ProbeHandled(aggregate_id=uuid.uuid4(), probe_event_id=event.event_id)],
            expected_version=0,
        )


def send_probe(mode: str = "ok") -> uuid.UUID:
    """Append one probe event in its own committed transaction; returns its aggregate id."""
    aggregate_id = uuid.uuid4()
    with transaction.atomic():
        store.append([ProbeSent(aggregate_id=aggregate_id, mode=mode)], expected_version=0)
    return aggregate_id
