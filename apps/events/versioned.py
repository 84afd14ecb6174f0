"""Saving a change to a versioned aggregate row together with the event that records it."""

from __future__ import annotations

from typing import Any

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
