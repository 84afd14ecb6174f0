"""Identifiers."""

from __future__ import annotations

import uuid


def new_id() -> uuid.UUID:
    """A new random identifier for aggregates, events and correlation."""
    return uuid.uuid4()
