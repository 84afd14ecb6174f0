"""Correlation and causation of the events a unit of work appends.

A request starts a correlation; every event appended while handling it carries that correlation
id. When a handler reacts to an event, the events it causes carry the handled event's id as their
causation id and inherit its correlation id, so a whole chain (order created → payment requested →
order paid → shipment requested) can be followed in the log.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from shared.ids import new_id


@dataclass(frozen=True)
class Causation:
    correlation_id: uuid.UUID
    causation_id: uuid.UUID | None = None


_current: ContextVar[Causation | None] = ContextVar("oms_causation", default=None)


def current_causation() -> Causation:
    """The active causation, or a fresh correlation when nothing started one."""
    return _current.get() or Causation(correlation_id=new_id())


@contextmanager
def correlated(correlation_id: uuid.UUID | None = None) -> Iterator[Causation]:
    """Start a correlation (one per inbound request or command)."""
    causation = Causation(correlation_id=correlation_id or new_id())
    token = _current.set(causation)
    try:
        yield causation
    finally:
        _current.reset(token)


@contextmanager
def caused_by(event_id: uuid.UUID, correlation_id: uuid.UUID | None) -> Iterator[Causation]:
    """Events appended inside this block were caused by ``event_id``."""
    causation = Causation(correlation_id=correlation_id or new_id(), causation_id=event_id)
    token = _current.set(causation)
    try:
        yield causation
    finally:
        _current.reset(token)
