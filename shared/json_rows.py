"""A model row as a JSON object inside another query, and back.

An order's detail shows its payment and its shipment. Fetching each with a query of its own costs
a round trip apiece; carried as a JSON object in a subquery of the order's own query they cost
none. Decimals travel as text (never as a JSON number, which would come back as a float) and
every value is read back through its model field, so the instance rebuilt here holds the same
Python values as one loaded by the ORM, on PostgreSQL and on SQLite alike.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.expressions import RawSQL

ModelT = TypeVar("ModelT", bound=models.Model)


def row_as_json_subquery(
    model: type[models.Model], fields: Iterable[str], *, where_column: str, equals: str
) -> RawSQL:
    """A subquery giving, as one JSON object, ``fields`` of the row of ``model`` whose
    ``where_column`` equals the column ``equals`` of the surrounding query ("table"."column");
    NULL when there is no such row. The SQL is written from the model's own metadata once per
    process and database, so no ORM expression is compiled per query."""
    sql = _subquery_sql(model, tuple(fields), where_column, equals, connection.vendor)
    return RawSQL(sql, (), output_field=models.JSONField())


def rows_as_json_array_subquery(
    model: type[models.Model],
    fields: Iterable[str],
    *,
    where_column: str,
    equals: str,
    order_by: tuple[str, ...],
) -> RawSQL:
    """Like :func:`row_as_json_subquery` for every matching row: one JSON object
    ``{"rows": [...]}``, the rows in ``order_by`` order (columns, ascending); NULL when none."""
    sql = _array_subquery_sql(
        model, tuple(fields), where_column, equals, order_by, connection.vendor
    )
    return RawSQL(sql, (), output_field=models.JSONField())


def _object_sql(model: type[models.Model], fields: tuple[str, ...], vendor: str) -> str:
    quote = connection.ops.quote_name
    parts = []
    for name in fields:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is not a column of {model.__name__}"
        column = f"inner_row.{quote(field.column)}"
        if isinstance(field, models.DecimalField):
            column = f"CAST({column} AS TEXT)"  # never a JSON number, which reads back as a float
        elif isinstance(field, models.JSONField) and vendor != "postgresql":
            column = f"json({column})"  # SQLite keeps JSON as text: embed it, not a string of it
        parts.append(f"'{name}', {column}")
    build = "jsonb_build_object" if vendor == "postgresql" else "json_object"
    return f"{build}({', '.join(parts)})"


@functools.cache
def _subquery_sql(
    model: type[models.Model], fields: tuple[str, ...], where_column: str, equals: str, vendor: str
) -> str:
    quote = connection.ops.quote_name
    return (
        f"(SELECT {_object_sql(model, fields, vendor)} FROM {quote(model._meta.db_table)} "
        f"inner_row WHERE inner_row.{quote(where_column)} = {equals})"
    )


@functools.cache
def _array_subquery_sql(
    model: type[models.Model],
    fields: tuple[str, ...],
    where_column: str,
    equals: str,
    order_by: tuple[str, ...],
    vendor: str,
) -> str:
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    where = f"inner_row.{quote(where_column)} = {equals}"
    columns = []
    for name in order_by:
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is not a column of {model.__name__}"
        columns.append(quote(field.column))
    row = _object_sql(model, fields, vendor)
    if vendor == "postgresql":
        ordering = ", ".join(f"inner_row.{column}" for column in columns)
        return (
            f"(SELECT jsonb_build_object('rows', jsonb_agg({row} ORDER BY {ordering})) "
            f"FROM {table} inner_row WHERE {where} HAVING count(*) > 0)"
        )
    # SQLite aggregates in the order the rows come, so they come from an ordered subquery.
    ordering = ", ".join(columns)
    return (
        f"(SELECT json_object('rows', json_group_array(json({row}))) FROM "
        f"(SELECT * FROM {table} inner_row WHERE {where} ORDER BY {ordering}) inner_row "
        "HAVING count(*) > 0)"
    )


def instance_from_json(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """The ``model`` instance whose fields :func:`row_as_json_subquery` put in ``data`` (decoded
    by the subquery's JSONField on either database)."""
    values: dict[str, Any] = {}
    for name, raw in data.items():
        field = model._meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is not a column of {model.__name__}"
        value = field.to_python(raw)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            # SQLite keeps datetimes as naive UTC text; the ORM would make them aware the same way.
            value = value.replace(tzinfo=dt.UTC)
        values[field.attname] = value
    return model(**values)
