"""Projections: read models kept in this database, applied in the command's own transaction.

A projection is a class with a ``name``, the ``event_types`` it reads, an idempotent
``apply(event)`` and a ``reset()`` that empties its tables. ``@projection`` registers it;
:func:`apply_inline` is called by ``store.append`` for every appended event, so a read model is
consistent with the write the moment it commits. There is no checkpoint row: nothing global
serialises writers, and a rebuild replays the log (:func:`rebuild`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import ClassVar, TypeVar

from django.db import transaction

from apps.events.models import StoredEvent


class Projection:
    """Base of every projection. ``apply`` must leave the rows unchanged when replayed."""

    name: ClassVar[str]
    event_types: ClassVar[frozenset[str]]

    def apply(self, event: StoredEvent) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


P = TypeVar("P", bound=type[Projection])

_projections: dict[str, type[Projection]] = {}
# One instance per projection (they keep no state) and the projections of each event type.
_instances: dict[str, Projection] = {}
_by_event_type: dict[str, list[Projection]] = {}


def projection(cls: P) -> P:
    """Register a projection class (see the module docstring)."""
    name = cls.name
    known = _projections.get(name)
    if known is not None:
        if known.__qualname__ != cls.__qualname__:
            raise ValueError(f"a projection named {name!r} is already registered")
        return cls  # the same module imported twice (autoreload)
    _projections[name] = cls
    instance = cls()
    _instances[name] = instance
    for event_type in sorted(cls.event_types):
        _by_event_type.setdefault(event_type, []).append(instance)
    return cls


def apply_inline(events: Iterable[StoredEvent]) -> None:
    """Apply just-appended ``events`` to every projection that reads them (same transaction)."""
    for event in events:
        for target in _by_event_type.get(event.event_type, ()):
            target.apply(event)


def registered() -> dict[str, type[Projection]]:
    return dict(_projections)


def get(name: str) -> type[Projection]:
    try:
        return _projections[name]
    except KeyError:
        raise LookupError(f"no projection named {name!r}; known: {sorted(_projections)}") from None


def events_for(target: Projection, batch_size: int) -> Iterator[list[StoredEvent]]:
    """The projection's events in insert order, in batches (keyset pagination on sequence).

    Insert order is the order the live path applied them in: every event of one order is
    appended under that order's row lock, so its events' sequences follow their commits.
    """
    after = 0
    while True:
        batch = list(
            StoredEvent.objects.filter(
                event_type__in=target.event_types, sequence__gt=after
            ).order_by("sequence")[:batch_size]
        )
        if not batch:
            return
        yield batch
        after = batch[-1].sequence


def rebuild(
    name: str,
    *,
    batch_size: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Empty the projection and replay the log into it; returns the number of events applied.

    Runs in one transaction, so readers see the old rows until the new ones are complete.
    Commands that touch a row meanwhile wait for the rebuild's lock on it and then apply their
    event to the rebuilt row; their own events are not in the replay (not yet committed).
    """
    target = get(name)()
    total = StoredEvent.objects.filter(event_type__in=target.event_types).count()
    applied = 0
    with transaction.atomic():
        target.reset()
        for batch in events_for(target, batch_size):
            for stored in batch:
                target.apply(stored)
            applied += len(batch)
            if progress:
                progress(applied, total)
    return applied
