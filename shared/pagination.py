"""Cursor pagination that answers a tampered cursor with 404 instead of failing."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class StrictCursorPagination(CursorPagination):
    """DRF checks a cursor's shape but not its position value, which reaches the query as is.

    A position that is not a valid value of the ordering field (a date that is not a date, an id
    that is not a number) is the client's error, reported like any other invalid cursor.
    """

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise NotFound(self.invalid_cursor_message) from None
