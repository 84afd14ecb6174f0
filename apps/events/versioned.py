"""Saving a change to a versioned aggregate row together with the event that records it."""

from __future__ import annotations

from typing import Any, TypeVar

from django.db import IntegrityError, transaction

from apps.events import store
from apps.events.base import DomainEvent
from shared import clock
from shared.exceptions import ConcurrencyConflict
from shared.models import VersionedRow


def save_change(
    row: VersionedRow,
    event: DomainEvent,
    *,
    user_id: Any,
    idempotency_key: str | None,
    **fields: Any,
) -> None:
    """Write ``fields`` to ``row`` and append ``event`` as the row's next version.

    The UPDATE is guarded by the version that was read, so a change made meanwhile by someone
    else is never overwritten: it raises :class:`ConcurrencyConflict` instead. Must run inside
    ``transaction.atomic()``.
    """
    previous: int = row.version
    values: dict[str, Any] = {"version": previous + 1, "updated_at": clock.now(), **fields}
    model = type(row)
    if model._default_manager.filter(pk=row.pk, version=previous).update(**values) != 1:
        label = model._meta.model_name or "row"
        raise ConcurrencyConflict(
            f"{label.capitalize()} {row.pk} was changed concurrently.",
            **{f"{label}_id": str(row.pk)},
        )
    for name, value in values.items():
        setattr(row, name, value)
    store.append(
        [event], expected_version=previous, user_id=user_id, idempotency_key=idempotency_key
    )


RowT = TypeVar("RowT", bound=VersionedRow)


def create_once(
    row: RowT,
    event: DomainEvent,
    *,
    existing: dict[str, Any],
    user_id: Any,
    idempotency_key: str | None,
) -> RowT:
    """Insert an aggregate's first row with ``event`` as its version 1, once.

    When a twin run already created it (a unique constraint refuses ``row``), the row that
    ``existing`` finds is returned and nothing is appended. Must run inside
    ``transaction.atomic()``; the insert gets a savepoint so that the refusal leaves the
    caller's transaction usable.
    """
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        found: RowT = type(row)._default_manager.get(**existing)
        return found
    store.append([event], expected_version=0, user_id=user_id, idempotency_key=idempotency_key)
    return row
