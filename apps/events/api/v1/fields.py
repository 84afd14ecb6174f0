"""A stored event's payload and metadata as every API representation shows them.

The log keeps what each event was written with, and events written before the API's one form of
a moment carry ``…+00:00``. These fields show the moments in the one form, choosing them by the
event class's field types (and the metadata's known keys), so no free text changes on the way out.
"""

from __future__ import annotations

from typing import Any, Protocol

from rest_framework import serializers

from apps.events.base import metadata_in_one_form, payload_in_one_form


class _StoredDocuments(Protocol):
    event_type: str
    payload: dict[str, Any]


class StoredPayloadField(serializers.JSONField):
    """An event's ``payload``; it reads the whole event, whose type declares which values are
    moments."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("source", "*")
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> Any:
        event: _StoredDocuments = value
        return payload_in_one_form(event.event_type, event.payload)


class StoredMetadataField(serializers.JSONField):
    """An event's ``metadata``."""

    def to_representation(self, value: Any) -> Any:
        return metadata_in_one_form(value)
