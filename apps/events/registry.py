"""The registry of event handlers: each registration is a subscription to the log.

A handler is registered under a stable name for one or more event types. The name is what the
subscription's checkpoints and parked events store, so renaming a handler class loses nothing as
long as the name stays. Handler modules are imported by :meth:`EventsConfig.ready`, so
registration never depends on which module happened to be imported first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from apps.events.base import EventEnvelope

# Subscribes a handler to every event type, those declared later included (outbound webhooks).
ALL_EVENTS = "*"


@runtime_checkable
class EventHandler(Protocol):
    """Reacts to one delivered event. Must be safe to run twice (at-least-once delivery)."""

    def handle(self, event: EventEnvelope) -> None: ...


@dataclass(frozen=True)
class Registration:
    name: str
    event_types: frozenset[str]
    factory: Callable[[], EventHandler]


class HandlerRegistry:
    def __init__(self) -> None:
        self._by_name: dict[str, Registration] = {}
        self._by_event_type: dict[str, list[str]] = defaultdict(list)

    def register(
        self, name: str, event_types: frozenset[str], factory: Callable[[], EventHandler]
    ) -> None:
        existing = self._by_name.get(name)
        if existing is not None:
            if existing.event_types == event_types:
                return  # the same module imported twice (e.g. autoreload): nothing changes
            raise ValueError(f"a handler named {name!r} is already registered")
        self._by_name[name] = Registration(name, event_types, factory)
        for event_type in sorted(event_types):
            self._by_event_type[event_type].append(name)

    def unregister(self, name: str) -> None:
        registration = self._by_name.pop(name, None)
        if registration is None:
            return
        for event_type in registration.event_types:
            self._by_event_type[event_type].remove(name)

    def handler_names_for(self, event_type: str) -> list[str]:
        return list(self._by_event_type.get(event_type, ())) + list(
            self._by_event_type.get(ALL_EVENTS, ())
        )

    def create(self, name: str) -> EventHandler:
        registration = self._by_name.get(name)
        if registration is None:
            raise LookupError(f"no handler named {name!r} is registered")
        return registration.factory()

    def names(self) -> list[str]:
        return sorted(self._by_name)

    def event_types_of(self, name: str) -> frozenset[str]:
        registration = self._by_name.get(name)
        if registration is None:
            raise LookupError(f"no handler named {name!r} is registered")
        return registration.event_types

    def __contains__(self, name: object) -> bool:
        return name in self._by_name


registry = HandlerRegistry()
