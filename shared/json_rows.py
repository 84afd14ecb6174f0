"""A model row as a JSON object inside another query, and back.

An order's detail shows its payment and its shipment. Fetching each with a query of its own costs
a round trip apiece; carried as a JSON object in a subquery of the order's own query they cost
none. Decimals travel as text (never as a JSON number, which would come back as a float) and
every value is read back through its model field, so the instance rebuilt here holds the same
Python values as one loaded by the ORM, on PostgreSQL and on SQLite alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from django.db import models
from django.db.models.functions import Cast, JSONObject

ModelT = TypeVar("ModelT", bound=models.Model)


def row_as_json(model: type[models.Model], fields: Iterable[str]) -> JSONObject:
    """A JSON object of ``fields`` of the row the surrounding query selects from ``model``."""
    parts: dict[str, Any] = {}
    for name in fields:
        field = model._meta.get_field(name)
        if isinstance(field, models.DecimalField):
            parts[name] = Cast(name, models.CharField())
        else:
            parts[name] = models.F(name)
    return JSONObject(**parts)


def instance_from_json(model: type[ModelT], data: Mapping[str, Any]) -> ModelT:
    """The ``model`` instance whose fields :func:`row_as_json` put in ``data``."""
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
