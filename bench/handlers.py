"""A bench-only event and its no-op handler, to measure the delivery machinery by itself.

The event type is the bench's own, so the handler never adds a delivery to an order's events:
the order figures measure the product as it is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from apps.events.base import DomainEvent, EventEnvelope
from apps.events.decorators import event_handler

BENCH_HANDLER = "bench.noop"


@dataclass(frozen=True, kw_only=True)
class BenchPing(DomainEvent):
    event_type: ClassVar[str] = "BenchPing"
    aggregate_type: ClassVar[str] = "bench"

    number: int


@event_handler(BenchPing, name=BENCH_HANDLER)
class NoOpHandler:
    """Does nothing, so a delivery's cost is the machinery's: claim, savepoint, success mark."""

    def handle(self, event: EventEnvelope) -> None:
        return None
