"""Summaries that other apps contribute to the order representation.

Orders never imports the payments or shipping apps, yet an order's detail shows its payment and its
shipment. Those apps register a provider here (in their ``AppConfig.ready``) under the name of the
section they fill. A provider fills its section two ways:

* for a page of orders, with one query for the whole page (``for_orders``), so fifty orders
  cost one query per provider, not fifty;
* for one order, as a subquery of the order's own query (``subquery``: the summary as a JSON
  object, NULL when there is none, read back by ``from_json``), so an order's detail is one query
  for the order with its payment and shipment, plus one for its items.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Expression, Model, QuerySet

from apps.orders.models import Order

Summary = dict[str, Any]
# What a provider's subquery matches its rows' order id against, in the order's query.
ORDER_ID_COLUMN = f'"{Order._meta.db_table}"."{Order._meta.pk.column}"'


@dataclass(frozen=True)
class SummaryProvider:
    for_orders: Callable[[list[uuid.UUID]], Mapping[uuid.UUID, Summary]]
    subquery: Callable[[], Expression]
    from_json: Callable[[Mapping[str, Any] | str], Summary]


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
        return none_yet()
    return {name: provider.for_orders(ids) for name, provider in _providers.items()}


def none_yet() -> dict[str, Mapping[uuid.UUID, Summary]]:
    """No summary in any section: what an order has in the transaction that creates it."""
    return {name: {} for name in _providers}


def _attribute(name: str) -> str:
    return f"{name}_summary_json"


def with_summaries(orders: QuerySet[Any]) -> QuerySet[Any]:
    """``orders`` carrying every provider's summary in their own query."""
    return orders.annotate(
        **{_attribute(name): provider.subquery() for name, provider in _providers.items()}
    )


def carried_by(order: Model) -> dict[str, Mapping[uuid.UUID, Summary]] | None:
    """The summaries an order loaded by :func:`with_summaries` carries; None if it was not."""
    found: dict[str, Mapping[uuid.UUID, Summary]] = {}
    for name, provider in _providers.items():
        attribute = _attribute(name)
        if not hasattr(order, attribute):
            return None
        data = getattr(order, attribute)
        found[name] = {order.pk: provider.from_json(data)} if data is not None else {}
    return found
