"""The one pagination convention of the API: cursor pages ``{"results", "next", "previous"}``.

Every list answers with that envelope. ``next`` and ``previous`` are complete URLs (or null); a
client follows them and never builds a cursor itself. ``page_size`` picks the size within the
list's bounds. A cursor or page size the server cannot use is a 400 problem naming the parameter:
silently ignoring it would hand the client a page it did not ask for.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

CURSOR_PARAM = "cursor"
PAGE_SIZE_PARAM = "page_size"


def page_size_of(request: Request, *, default: int, maximum: int) -> int:
    """The ``page_size`` query parameter, or 400 when it is not an integer in [1, maximum]."""
    raw = request.query_params.get(PAGE_SIZE_PARAM)
    if raw is None:
        return default
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
        raise ValidationError({PAGE_SIZE_PARAM: [f"Must be a whole number from 1 to {maximum}."]})
    return int(raw)


class StrictCursorPagination(CursorPagination):
    """DRF's cursor pagination, strict about its parameters.

    DRF answers a malformed cursor with 404 and a position that does not fit the ordering field
    (a date that is not a date) with a 500 from the query; an out-of-range page size is silently
    replaced by the default. Here each is a 400 naming the parameter.
    """

    page_size = 50
    max_page_size = 200
    page_size_query_param = PAGE_SIZE_PARAM
    cursor_query_param = CURSOR_PARAM

    def get_page_size(self, request: Request) -> int:
        return page_size_of(request, default=self.page_size, maximum=self.max_page_size)

    def decode_cursor(self, request: Request) -> Any:
        try:
            return super().decode_cursor(request)
        except NotFound:
            raise ValidationError({CURSOR_PARAM: [self.invalid_cursor_message]}) from None

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> Any:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (DjangoValidationError, ValueError, TypeError, OverflowError):
            raise ValidationError({CURSOR_PARAM: [self.invalid_cursor_message]}) from None

    @classmethod
    def parameters(cls) -> list[OpenApiParameter]:
        """The query parameters of a list paginated this way, for its OpenAPI operation."""
        return [
            OpenApiParameter(
                CURSOR_PARAM,
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                description="Opaque position from a previous page's `next` or `previous` link.",
            ),
            page_size_parameter(default=cls.page_size, maximum=cls.max_page_size),
        ]


def page_size_parameter(*, default: int, maximum: int) -> OpenApiParameter:
    return OpenApiParameter(
        PAGE_SIZE_PARAM,
        {"type": "integer", "minimum": 1, "maximum": maximum, "default": default},
        OpenApiParameter.QUERY,
        description=f"Results per page, 1 to {maximum} (default {default}).",
    )


_page_serializers: dict[str, type[serializers.Serializer]] = {}


def page_of(item: type[serializers.Serializer], name: str | None = None) -> Any:
    """A serializer describing a page of ``item``: the envelope every list answers with."""
    component = name or f"Paginated{item.__name__.removesuffix('Serializer')}List"
    if component not in _page_serializers:
        _page_serializers[component] = type(
            component,
            (serializers.Serializer,),
            {
                "__module__": __name__,
                "next": serializers.URLField(
                    allow_null=True, help_text="The next page, or null on the last one."
                ),
                "previous": serializers.URLField(
                    allow_null=True, help_text="The previous page, or null on the first one."
                ),
                "results": item(many=True),
            },
        )
    return _page_serializers[component]


def paginated(
    paginator: CursorPagination,
    queryset: Any,
    serializer: type[serializers.Serializer],
    request: Request,
    view: Any,
    *,
    render: Callable[[Any], Any] | None = None,
) -> Response:
    """One page of ``queryset`` rendered with ``serializer``, in the API's envelope; or with
    ``render`` (one row's representation) where the serializer is too slow for a whole page and
    a test holds the two equal."""
    page = paginator.paginate_queryset(queryset, request, view=view)
    if render is not None:
        return paginator.get_paginated_response([render(row) for row in page or []])
    return paginator.get_paginated_response(serializer(page, many=True).data)
