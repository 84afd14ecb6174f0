"""Sections that other apps contribute to the order representation (its payment, its shipment).

Orders never imports the payments or shipping apps, yet an order's detail shows its payment and its
shipment. Those apps register a provider here (in their ``AppConfig.ready``) under the name of the
section they fill. A provider fills its section two ways:

* for a page of orders, with one query for the whole page (``for_orders``), so fifty orders
  cost one query per provider, not fifty;
* for one order, as a subquery of the order's own query (``subquery``: the section as a JSON
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
from shared.json_rows import (
    instance_from_json,
    row_as_json_subquery,
    rows_as_json_array_subquery,
)

Section = dict[str, Any]
# What a provider's subquery matches its rows' order id against, in the order's query.
ORDER_ID_COLUMN = f'"{Order._meta.db_table}"."{Order._meta.pk.column}"'


@dataclass(frozen=True)
class SectionProvider:
    for_orders: Callable[[list[uuid.UUID]], Mapping[uuid.UUID, Section]]
    subquery: Callable[[], Expression]
    from_json: Callable[[Mapping[str, Any]], Section]
    # The serializer class declaring the section's shape in the OpenAPI schema (for a section
    # of rows, the shape of one row), so that a generated client gets a typed object.
    schema: type[Any] | None = None


def provider_for(
    model: type[Model],
    fields: tuple[str, ...],
    section_of: Callable[[Any], Section],
    *,
    schema: type[Any] | None = None,
) -> SectionProvider:
    """The provider of the section ``section_of`` makes from the row of ``model`` whose
    ``order_id`` is the order's (one per order): read for a page in one query, or carried in
    the order's own query as a JSON object of ``fields``. ``schema``: its serializer."""

    def for_orders(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, Section]:
        rows = model._default_manager.filter(order_id__in=order_ids).only(*fields)
        return {row.order_id: section_of(row) for row in rows}  # type: ignore[attr-defined]

    def subquery() -> Expression:
        return row_as_json_subquery(model, fields, where_column="order_id", equals=ORDER_ID_COLUMN)

    def from_json(data: Mapping[str, Any]) -> Section:
        return section_of(instance_from_json(model, data))

    return SectionProvider(
        for_orders=for_orders, subquery=subquery, from_json=from_json, schema=schema
    )


def provider_for_many(
    model: type[Model],
    fields: tuple[str, ...],
    entry_of: Callable[[Any], dict[str, Any]],
    *,
    order_by: tuple[str, ...],
    schema: type[Any] | None = None,
) -> SectionProvider:
    """The provider of a section listing the rows of ``model`` whose ``order_id`` is the order's
    (any number, in ``order_by`` order), as ``{"rows": [entry, ...]}``; the same two ways.
    ``schema``: the serializer of one entry."""

    def for_orders(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, Section]:
        found: dict[uuid.UUID, Section] = {}
        rows = model._default_manager.filter(order_id__in=order_ids).order_by(*order_by)
        for row in rows.only(*fields):
            found.setdefault(row.order_id, {"rows": []})["rows"].append(entry_of(row))  # type: ignore[attr-defined]
        return found

    def subquery() -> Expression:
        return rows_as_json_array_subquery(
            model, fields, where_column="order_id", equals=ORDER_ID_COLUMN, order_by=order_by
        )

    def from_json(data: Mapping[str, Any]) -> Section:
        return {"rows": [entry_of(instance_from_json(model, row)) for row in data["rows"]]}

    return SectionProvider(
        for_orders=for_orders, subquery=subquery, from_json=from_json, schema=schema
    )


_providers: dict[str, SectionProvider] = {}


def register(name: str, provider: SectionProvider) -> None:
    """Make ``provider`` fill the section ``name`` of every rendered order."""
    existing = _providers.get(name)
    if existing is not None and existing is not provider:
        raise ValueError(f"a section provider named {name!r} is already registered")
    _providers[name] = provider


def unregister(name: str) -> None:
    _providers.pop(name, None)


def registered_names() -> list[str]:
    return sorted(_providers)


def schema_of(name: str) -> type[Any] | None:
    """The serializer declaring the shape of the section ``name``; None when its provider
    declares none (or no provider is registered under that name)."""
    provider = _providers.get(name)
    return provider.schema if provider is not None else None


def sections_for(order_ids: Iterable[uuid.UUID]) -> dict[str, Mapping[uuid.UUID, Section]]:
    """Every provider's sections of ``order_ids``: ``{name: {order_id: section}}``."""
    ids = list(dict.fromkeys(order_ids))
    if not ids:
        return none_yet()
    return {name: provider.for_orders(ids) for name, provider in _providers.items()}


def none_yet() -> dict[str, Mapping[uuid.UUID, Section]]:
    """Nothing in any section: what an order has in the transaction that creates it."""
    return {name: {} for name in _providers}


def _attribute(name: str) -> str:
    return f"{name}_section_json"


def with_sections(orders: QuerySet[Any]) -> QuerySet[Any]:
    """``orders`` carrying every provider's section in their own query."""
    return orders.annotate(
        **{_attribute(name): provider.subquery() for name, provider in _providers.items()}
    )


def carried_by(order: Model) -> dict[str, Mapping[uuid.UUID, Section]] | None:
    """The sections an order loaded by :func:`with_sections` carries; None if it was not."""
    found: dict[str, Mapping[uuid.UUID, Section]] = {}
    for name, provider in _providers.items():
        attribute = _attribute(name)
        if not hasattr(order, attribute):
            return None
        data = getattr(order, attribute)
        found[name] = {order.pk: provider.from_json(data)} if data is not None else {}
    return found
