"""Summaries that other apps contribute to the order representation.

Orders never imports the payments or shipping apps, yet an order's detail shows its payment and its
shipment. Those apps register a provider here (in their ``AppConfig.ready``) under the name of the
section they fill; the order serializer asks every provider once per response for all the orders
it renders, so a page of fifty orders costs one query per provider, not fifty.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

Summary = dict[str, Any]
SummaryProvider = Callable[[list[uuid.UUID]], Mapping[uuid.UUID, Summary]]

_providers: dict[str, SummaryProvider] = {}


def register(name: str, provider: SummaryProvider) -> None:
    """Make ``provider`` fill the section ``name`` of every rendered order."""
    existing = _providers.get(name)
    if existing is not None and existing is not provider:
        raise ValueError(f"a summary provider named {name!r} is already registered")
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def registered_names() -> list[str]:
    return sorted(_providers)


def summaries_for(order_ids: Iterable[uuid.UUID]) -> dict[str, Mapping[uuid.UUID, Summary]]:
    """Every provider's summaries of ``order_ids``: ``{section: {order_id: summary}}``."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return {name: {} for name in _providers}
    return {name: provider(ids) for name, provider in _providers.items()}
