"""Projections: read models fed by events, rebuildable from the log.

A projection is a class with a ``name``, the ``event_types`` it reads, an idempotent
``apply(event)`` and a ``reset()`` that empties its tables. ``@projection`` registers it twice:
in the projection registry (for rebuilds and status) and as an ordinary event handler named
``projection.<name>``, so live updates travel through the outbox like every other reaction, with
retries and dead letters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from django.db import transaction
from django.db.models import Max

from apps.events.base import EventEnvelope
from apps.events.models import Delivery, DeliveryStatus, ProjectionCheckpoint, StoredEvent
from apps.events.registry import registry
from shared import clock


class Projection:
    """Base of every projection. ``apply`` must leave the rows unchanged when replayed."""

    name: ClassVar[str]
    event_types: ClassVar[frozenset[str]]

    def apply(self, event: EventEnvelope) -> None:
        raise NotImplementedError

    def reset(self) -> None:
        raise NotImplementedError


P = TypeVar("P", bound=type[Projection])

_projections: dict[str, type[Projection]] = {}


def handler_name(projection_name: str) -> str:
    return f"projection.{projection_name}"


def projection(cls: P) -> P:
    """Register a projection class (see the module docstring)."""
    name = cls.name
    known = _projections.get(name)
    if known is not None and known.__qualname__ != cls.__qualname__:
        raise ValueError(f"a projection named {name!r} is already registered")
    _projections[name] = cls

    def factory() -> _ProjectionHandler:
        return _ProjectionHandler(cls())

    registry.register(handler_name(name), frozenset(cls.event_types), factory)
    return cls


class _ProjectionHandler:
    def __init__(self, target: Projection) -> None:
        self.target = target

    def handle(self, event: EventEnvelope) -> None:
        apply_and_checkpoint(self.target, event)


def apply_and_checkpoint(target: Projection, event: EventEnvelope) -> None:
    """Apply one event and advance the checkpoint, in one transaction.

    The checkpoint row is locked before the projection's rows, in the same order as
    :func:`rebuild`, so a live delivery and a rebuild wait for each other instead of deadlocking.
    It also means one projection applies one event at a time, whatever the number of workers.
    """
    # Inside a delivery the runner already gave the handler a savepoint: no second one.
    with transaction.atomic(savepoint=False):
        checkpoint = lock_checkpoint(target.name)
        target.apply(event)
        if event.sequence > checkpoint.last_sequence:
            ProjectionCheckpoint.objects.filter(name=target.name).update(
                last_sequence=event.sequence, updated_at=clock.now()
            )


def lock_checkpoint(name: str) -> ProjectionCheckpoint:
    """The projection's checkpoint row, created at 0 if missing, locked until commit."""
    locked = ProjectionCheckpoint.objects.select_for_update()
    checkpoint = locked.filter(name=name).first()
    if checkpoint is None:
        ProjectionCheckpoint.objects.get_or_create(
            name=name, defaults={"last_sequence": 0, "updated_at": clock.now()}
        )
        checkpoint = locked.get(name=name)
    return checkpoint


def registered() -> dict[str, type[Projection]]:
    return dict(_projections)


def get(name: str) -> type[Projection]:
    try:
        return _projections[name]
    except KeyError:
        raise LookupError(f"no projection named {name!r}; known: {sorted(_projections)}") from None


def events_for(target: Projection, batch_size: int) -> Iterator[list[StoredEvent]]:
    """The projection's events in global order, in batches (keyset pagination on sequence)."""
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

    Runs in one transaction, so readers see the old rows until the new ones are complete. Live
    deliveries of this projection wait on the checkpoint lock meanwhile and, once it is released,
    find their event already applied (applying twice changes nothing).
    """
    target = get(name)()
    total = StoredEvent.objects.filter(event_type__in=target.event_types).count()
    applied = 0
    with transaction.atomic():
        checkpoint = lock_checkpoint(name)
        target.reset()
        last = 0
        for batch in events_for(target, batch_size):
            for stored in batch:
                target.apply(stored.envelope())
            applied += len(batch)
            last = batch[-1].sequence
            if progress:
                progress(applied, total)
        checkpoint.last_sequence = last
        checkpoint.updated_at = clock.now()
        checkpoint.save()
    return applied


@dataclass(frozen=True)
class ProjectionStatus:
    name: str
    checkpoint: int
    head: int
    pending_deliveries: int

    @property
    def behind(self) -> bool:
        return self.pending_deliveries > 0 or self.checkpoint < self.head


def status(name: str) -> ProjectionStatus:
    """How far behind the log a projection is."""
    target = get(name)
    checkpoint = (
        ProjectionCheckpoint.objects.filter(name=name)
        .values_list("last_sequence", flat=True)
        .first()
        or 0
    )
    head = (
        StoredEvent.objects.filter(event_type__in=target.event_types).aggregate(
            head=Max("sequence")
        )["head"]
        or 0
    )
    pending = Delivery.objects.filter(
        handler=handler_name(name),
        status__in=(DeliveryStatus.PENDING, DeliveryStatus.RETRYING, DeliveryStatus.DEAD),
    ).count()
    return ProjectionStatus(name, checkpoint, head, pending)
