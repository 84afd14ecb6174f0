"""The one written form of a moment in the API: RFC 3339 in UTC, ending in ``Z``.

DRF's ``DateTimeField`` writes UTC as ``2026-11-24T23:59:01.120000Z``; ``datetime.isoformat()``
writes the same moment as ``…+00:00``. Representations built from dicts (the order's payment,
shipment and refunds sections, the statistics) would otherwise answer in the second form beside
serializers answering in the first, and a client parsing one of them strictly breaks on the
other. Every hand-built representation calls :func:`utc_text`.

Stored JSON (event payloads and metadata) keeps what it was written with: the log is never
rewritten, and events written before the one form carry ``…+00:00``. :func:`moments_in_one_form`
gives such a document the one form on its way out, guided by the type it was written from: only
the values declared as moments change, so free text that happens to read like a time (an item's
name, a cancellation reason) is shown exactly as it was given.
"""

from __future__ import annotations

import dataclasses
import functools
import types
from datetime import UTC, datetime
from typing import Any, Union, get_args, get_origin, get_type_hints


def utc_text(moment: datetime) -> str:
    """``moment`` as RFC 3339 text in UTC with ``Z``, exactly as DRF's ``DateTimeField`` writes
    it (microseconds when there are any)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: times are timezone-aware UTC")
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def optional_utc_text(moment: datetime | None) -> str | None:
    """:func:`utc_text`, or None for no moment."""
    return None if moment is None else utc_text(moment)


def moments_in_one_form(document: Any, hint: Any) -> Any:
    """``document`` (JSON decoded from a value of type ``hint``: a dataclass, a list or dict of
    them, a datetime) with each value the type declares a ``datetime`` written by
    :func:`utc_text`. Everything else, strings included, is returned as it is; so is a moment
    that cannot be read as a timezone-aware one."""
    if document is None:
        return None
    if hint is datetime:
        return _moment_in_one_form(document)
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        # The option the stored value is read back as (``from_json`` takes the same one).
        options = [option for option in get_args(hint) if option is not type(None)]
        return moments_in_one_form(document, options[0]) if options else document
    if origin in (list, tuple) and isinstance(document, list):
        (item_hint, *_) = get_args(hint) or (Any,)
        return [moments_in_one_form(item, item_hint) for item in document]
    if origin is dict and isinstance(document, dict):
        (_, value_hint) = get_args(hint) or (Any, Any)
        return {key: moments_in_one_form(value, value_hint) for key, value in document.items()}
    if dataclasses.is_dataclass(hint) and isinstance(hint, type) and isinstance(document, dict):
        fields = _field_hints(hint)
        return {
            key: moments_in_one_form(value, fields[key]) if key in fields else value
            for key, value in document.items()
        }
    return document


@functools.cache
def _field_hints(cls: type) -> dict[str, Any]:
    return get_type_hints(cls)


def _moment_in_one_form(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return value
    return value if moment.tzinfo is None else utc_text(moment)
