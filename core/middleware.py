"""Middleware of the service: request correlation and problem documents for every API error.

Every event a request appends carries the request's correlation id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.middleware.common import CommonMiddleware

from apps.events.context import correlated
from core.problems import API_PREFIX, PROBLEM_CONTENT_TYPE, generic_problem_response

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


class ApiProblemMiddleware:
    """Every error under ``/api/`` is a problem document, whatever answered it.

    DRF views answer through the problem exception handler, but some answers never reach a view:
    an unknown path (Django's 404, the HTML debug page listing every URL pattern when DEBUG is on),
    a disallowed Host header (400), an error in a middleware (500). Placed outermost, this turns
    each of those into ``application/problem+json`` with the same stable codes.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code >= 400
            and request.path.startswith(API_PREFIX)
            and response.get("Content-Type", "").split(";")[0] != PROBLEM_CONTENT_TYPE
        ):
            return generic_problem_response(response.status_code, request.path, response)
        return response


class ApiCommonMiddleware(CommonMiddleware):
    """Django's CommonMiddleware, without the trailing-slash redirect under ``/api/``.

    Redirecting ``POST /api/v1/orders`` would lose the body (and with DEBUG on, Django refuses
    with a 500): an API path without its slash is an unknown path, answered 404.
    """

    def should_redirect_with_slash(self, request: HttpRequest) -> bool:
        if request.path_info.startswith(API_PREFIX):
            return False
        return bool(super().should_redirect_with_slash(request))
