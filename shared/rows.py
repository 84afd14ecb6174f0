"""Plain INSERTs of model instances, with their SQL written once per model and row count.

The write path of a command inserts a handful of rows (an order, its items, its event, the read
models' rows) whose values it already holds. Django's ``save()`` and ``bulk_create()`` build and
compile an INSERT for every call, which costs more than the database takes to run it. Here the
statement is written from the model's metadata once per (model, rows, options) and only the
values change; each value still goes through its field (``pre_save`` and
``get_db_prep_save``), so what reaches the database is what the ORM would send.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from django.db import connection, models


def insert(
    rows: Sequence[models.Model], *, returning: str | None = None, ignore_conflicts: bool = False
) -> None:
    """INSERT ``rows`` (instances of one model) in one statement.

    The primary key is written when it is not an auto field. ``returning``: a field the database
    gives (such as an auto field), set on each row from the statement's answer.
    ``ignore_conflicts``: a row that breaks a unique constraint is skipped, as with
    ``bulk_create(ignore_conflicts=True)`` (then nothing is returned for it).
    """
    if not rows:
        return
    model = type(rows[0])
    sql, fields = _statement(model, len(rows), returning, ignore_conflicts, connection.vendor)
    params: list[Any] = []
    for row in rows:
        for field in fields:
            params.append(field.get_db_prep_save(field.pre_save(row, True), connection))
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if returning is not None:
            returned = model._meta.get_field(returning)
            assert isinstance(returned, models.Field), f"{returning} is not a column"
            attname = returned.attname
            for row, (value,) in zip(rows, cursor.fetchall(), strict=True):
                setattr(row, attname, value)
    for row in rows:
        row._state.adding = False
        row._state.db = connection.alias


@functools.cache
def _statement(
    model: type[models.Model],
    count: int,
    returning: str | None,
    ignore_conflicts: bool,
    vendor: str,
) -> tuple[str, tuple[models.Field, ...]]:
    if returning is not None and ignore_conflicts:
        raise ValueError("a skipped row returns nothing: returning needs every row inserted")
    quote = connection.ops.quote_name
    fields = tuple(
        field
        for field in model._meta.concrete_fields
        if not (field.primary_key and isinstance(field, models.AutoField | models.BigAutoField))
    )
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} "
        f"({', '.join(quote(field.column) for field in fields)}) VALUES {', '.join([row] * count)}"
    )
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    if returning is not None:
        returned = model._meta.get_field(returning)
        assert isinstance(returned, models.Field), f"{returning} is not a column"
        sql += f" RETURNING {quote(returned.column)}"
    return sql, fields
