"""``@event_handler``: register a handler class for one or more event types."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from apps.events.base import DomainEvent
from apps.events.registry import ALL_EVENTS, EventHandler, registry

__all__ = ["ALL_EVENTS", "event_handler"]

H = TypeVar("H", bound=type)


def event_handler(
    *event_types: type[DomainEvent] | str, name: str | None = None
) -> Callable[[H], H]:
    """Register the decorated class as a handler of ``event_types`` (``ALL_EVENTS``: of every
    event, whatever its type).

    ``name`` is stored with every delivery; it defaults to the class's dotted path. The class is
    instantiated once per delivery with no arguments.
    """
    if not event_types:
        raise ValueError("event_handler needs at least one event type")
    type_names = frozenset(t if isinstance(t, str) else t.event_type for t in event_types)

    def register(cls: H) -> H:
        if not callable(getattr(cls, "handle", None)):
            raise TypeError(f"{cls.__qualname__} has no handle(event) method")
        handler_name = name or f"{cls.__module__}.{cls.__qualname__}"

        def factory() -> EventHandler:
            instance: EventHandler = cls()
            return instance

        registry.register(handler_name, type_names, factory)
        cls.handler_name = handler_name  # type: ignore[attr-defined]
        return cls

    return register
