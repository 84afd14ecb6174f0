"""The one written form of a moment in the API: RFC 3339 in UTC, ending in ``Z``.

DRF's ``DateTimeField`` writes UTC as ``2026-11-24T23:59:01.120000Z``; ``datetime.isoformat()``
writes the same moment as ``…+00:00``. Representations built from dicts (the order's payment,
shipment and refunds sections, the statistics) would otherwise answer in the second form beside
serializers answering in the first, and a client parsing one of them strictly breaks on the
other. Every hand-built representation calls :func:`utc_text`.

Stored JSON (event payloads and metadata) keeps what it was written with: the log is never
rewritten. :func:`with_utc_z` gives such a document the same form on its way out.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from rest_framework import serializers

# A whole string that is a moment in UTC written with a numeric offset.
_UTC_OFFSET_FORM = re.compile(r"\A(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)\+00:00\Z")


def utc_text(moment: datetime) -> str:
    """``moment`` as RFC 3339 text in UTC with ``Z``, exactly as DRF's ``DateTimeField`` writes
    it (microseconds when there are any)."""
    if moment.tzinfo is None:
        raise ValueError(f"{moment!r} has no time zone: times are timezone-aware UTC")
    return moment.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"


def optional_utc_text(moment: datetime | None) -> str | None:
    """:func:`utc_text`, or None for no moment."""
    return None if moment is None else utc_text(moment)


def with_utc_z(document: Any) -> Any:
    """``document`` (decoded JSON) with every string that is a UTC moment written ``…+00:00``
    written ``…Z`` instead: the same instant, in the API's one form. Other strings, dates
    without a time included, are left as they are."""
    if isinstance(document, str):
        found = _UTC_OFFSET_FORM.match(document)
        return f"{found.group(1)}Z" if found else document
    if isinstance(document, list):
        return [with_utc_z(item) for item in document]
    if isinstance(document, dict):
        return {key: with_utc_z(value) for key, value in document.items()}
    return document


class StoredJSONField(serializers.JSONField):
    """A stored JSON document (an event's payload or metadata) as the API shows it: the moments
    in it written in the API's one form (see :func:`with_utc_z`)."""

    def to_representation(self, value: Any) -> Any:
        return with_utc_z(super().to_representation(value))
