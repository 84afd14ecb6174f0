"""Admin building blocks shared by every app: read-only records, amounts in their currency."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.contrib import admin
from django.db import models
from django.http import HttpRequest

from shared.money import format_amount


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records that change only through their service: shown, never added, edited or deleted."""

    # The admin still builds a form to show a record; Django 6's scheme, said now, not warned.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class AmountsInCurrencyAdmin(ReadOnlyAdmin):
    """Shows the ``amount_fields`` with their row's currency decimals ("25.00", not "25.0000").

    Each listed field ``x`` is shown by a column ``x_in_currency`` in lists and on the record's
    page, in the place where the raw column would be.
    """

    amount_fields: Sequence[str] = ()
    currency_field = "currency"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in cls.amount_fields:
            setattr(cls, f"{name}_in_currency", _amount_column(name, cls.currency_field))

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[Any]:
        return [self._shown(name) for name in super().get_fields(request, obj)]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        shown = [f"{name}_in_currency" for name in self.amount_fields]
        return [*super().get_readonly_fields(request, obj), *shown]

    def get_list_display(self, request: HttpRequest) -> list[Any]:
        return [self._shown(name) for name in super().get_list_display(request)]

    def _shown(self, name: Any) -> Any:
        return f"{name}_in_currency" if name in self.amount_fields else name


def _amount_column(field: str, currency_field: str) -> Any:
    @admin.display(description=field.replace("_", " "), ordering=field)
    def column(self: admin.ModelAdmin, row: Any) -> str:
        currency = getattr(row, currency_field)
        return f"{format_amount(getattr(row, field), currency)} {currency}"

    return column
