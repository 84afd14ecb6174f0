"""Domain events: small frozen dataclasses, and the envelope they travel in once stored.

This module knows no domain. Each app declares its own event classes by subclassing
:class:`DomainEvent` and naming ``event_type`` and ``aggregate_type``; the class registers itself
so that a stored payload can be turned back into the typed event.
"""

from __future__ import annotations

import dataclasses
import types
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from shared.timestamps import moments_in_one_form, utc_text

_EVENT_TYPES: dict[str, type[DomainEvent]] = {}

E = TypeVar("E", bound="DomainEvent")


@dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Something that happened to one aggregate.

    Subclasses are frozen dataclasses with JSON-friendly fields (str, int, bool, UUID, Decimal,
    datetime, lists and dicts of those). ``aggregate_id`` names the aggregate the event belongs to.
    """

    event_type: ClassVar[str]
    aggregate_type: ClassVar[str]

    aggregate_id: uuid.UUID

    def partition_key(self) -> uuid.UUID:
        """The stream this event is read in, in order, with its kin: by default its own aggregate.

        Events of aggregates that belong to another one (an order's payment, its shipment) name
        the owner's id here, so that everything about it reads as one timeline and reaches a
        subscription segment in log order.
        """
        return self.aggregate_id

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        event_type = cls.__dict__.get("event_type")
        if event_type:
            known = _EVENT_TYPES.get(event_type)
            if known is not None and known.__qualname__ != cls.__qualname__:
                raise TypeError(f"event type {event_type!r} is declared twice")
            _EVENT_TYPES[event_type] = cls

    def payload(self) -> dict[str, Any]:
        """The event's fields, less ``aggregate_id`` (stored in its own column), as JSON values."""
        return {
            field.name: to_json(getattr(self, field.name))
            for field in dataclasses.fields(self)
            if field.name != "aggregate_id"
        }

    @classmethod
    def from_payload(cls: type[E], aggregate_id: uuid.UUID, payload: dict[str, Any]) -> E:
        hints = get_type_hints(cls)
        values: dict[str, Any] = {"aggregate_id": aggregate_id}
        for field in dataclasses.fields(cls):
            if field.name == "aggregate_id" or field.name not in payload:
                continue
            values[field.name] = from_json(payload[field.name], hints[field.name])
        return cls(**values)


def event_class(event_type: str) -> type[DomainEvent] | None:
    """The class declared for ``event_type``, or None when no loaded app declares it."""
    return _EVENT_TYPES.get(event_type)


def known_event_types() -> set[str]:
    """The event types of every declared event class."""
    return set(_EVENT_TYPES)


def known_aggregate_types() -> set[str]:
    """The aggregate types of every declared event class."""
    return {cls.aggregate_type for cls in _EVENT_TYPES.values()}


# The keys of an event's metadata (written by ``store.append``) whose values are moments.
METADATA_MOMENTS = frozenset({"timestamp"})


def payload_in_one_form(event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A stored payload with the moments its event class declares in the API's one form (those
    stored before it carry ``+00:00``); its other values, free text included, as stored."""
    cls = event_class(event_type)
    if cls is None:
        return payload
    shown: dict[str, Any] = moments_in_one_form(payload, cls)
    return shown


def metadata_in_one_form(metadata: dict[str, Any]) -> dict[str, Any]:
    """Stored metadata with its moments (:data:`METADATA_MOMENTS`) in the API's one form."""
    return {
        key: moments_in_one_form(value, datetime) if key in METADATA_MOMENTS else value
        for key, value in metadata.items()
    }


def to_json(value: Any) -> Any:
    if isinstance(value, uuid.UUID | Decimal):
        return str(value)
    if isinstance(value, datetime):
        return utc_text(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [to_json(item) for item in value]
    if isinstance(value, dict):
        return {str(key): to_json(item) for key, item in value.items()}
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    return value


def from_json(value: Any, hint: Any) -> Any:
    """Turn a JSON value back into the type a field is annotated with."""
    if value is None:
        return None
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        for option in get_args(hint):
            if option is type(None):
                continue
            return from_json(value, option)
    if origin in (list, tuple):
        (item_hint, *_) = get_args(hint) or (Any,)
        items = [from_json(item, item_hint) for item in value]
        return tuple(items) if origin is tuple else items
    if origin is dict or hint is dict:
        return dict(value)
    if hint is uuid.UUID:
        return uuid.UUID(str(value))
    if hint is Decimal:
        return Decimal(str(value))
    if hint is datetime:
        return datetime.fromisoformat(value)
    if hint is date:
        return date.fromisoformat(value)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        nested = get_type_hints(hint)
        return hint(**{key: from_json(item, nested[key]) for key, item in value.items()})
    return value


@dataclass(frozen=True, kw_only=True)
class EventEnvelope:
    """A stored event as handlers receive it: the seed's envelope plus the global sequence."""

    sequence: int
    # Where the event stands in the commit-ordered log; None before its transaction commits.
    position: int | None
    event_id: uuid.UUID
    event_type: str
    aggregate_type: str
    aggregate_id: uuid.UUID
    partition_key: uuid.UUID
    version: int
    payload: dict[str, Any]
    metadata: dict[str, Any]
    idempotency_key: str | None
    occurred_at: datetime

    @property
    def event(self) -> DomainEvent:
        """The typed event, rebuilt from the payload."""
        cls = event_class(self.event_type)
        if cls is None:
            raise LookupError(f"no event class is declared for {self.event_type!r}")
        return cls.from_payload(self.aggregate_id, self.payload)

    @property
    def correlation_id(self) -> str | None:
        value = self.metadata.get("correlation_id")
        return str(value) if value else None
