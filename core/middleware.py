"""Request correlation: every event a request appends carries the request's correlation id."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from apps.events.context import correlated

HEADER = "X-Correlation-ID"


class CorrelationIdMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        try:
            correlation_id = uuid.UUID(incoming) if incoming else None
        except ValueError:
            correlation_id = None  # a malformed id from a client is replaced, not trusted
        with correlated(correlation_id) as causation:
            response = self.get_response(request)
        response[HEADER] = str(causation.correlation_id)
        return response
