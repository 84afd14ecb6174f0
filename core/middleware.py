"""Middleware of the service: request correlation, one log line and the metrics of each request,
and problem documents for every API error.

Every event a request appends, and every line it logs, carries the request's correlation id.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.middleware.common import CommonMiddleware

from apps.events.context import correlated
from core.problems import API_PREFIX, PROBLEM_CONTENT_TYPE, generic_problem_response
from shared import log_context, metrics

HEADER = "X-Correlation-ID"

logger = logging.getLogger("oms.requests")


class CorrelationIdMiddleware:
    """Outermost: the request's correlation id (the client's ``X-Correlation-ID`` when it is a
    UUID, a new one otherwise) is on every event it appends, every line it logs and its answer."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER)
        try:
            correlation_id = uuid.UUID(incoming) if incoming else None
        except ValueError:
            correlation_id = None  # a malformed id from a client is replaced, not trusted
        with (
            correlated(correlation_id) as causation,
            log_context.bound(correlation_id=causation.correlation_id),
        ):
            response = self.get_response(request)
        response[HEADER] = str(causation.correlation_id)
        return response


KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Probes and scrapes arrive every few seconds: their lines are DEBUG, not INFO.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestTelemetryMiddleware:
    """One log line and the request metrics per request, with what was answered.

    Labelled by the route pattern (``api/v1/orders/<uuid:pk>/``), not the path, so the number of
    series stays bounded; an unknown path is ``unmatched``. The user is the one the request
    authenticated as (DRF sets it on the Django request too); the order is the one the URL names,
    or else the one order its commands concerned (the order a create made).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        with log_context.collecting() as collected:
            response = self.get_response(request)
        elapsed = time.perf_counter() - started
        match = request.resolver_match
        route = "/" + match.route if match is not None else "unmatched"
        if match is None and request.path.startswith(self.static_prefix):
            route = self.static_prefix + "*"
        # Any word is a method to the server: an unknown one must not mint new series.
        method = request.method if request.method in KNOWN_METHODS else "other"
        metrics.http_requests.labels(route, method, response.status_code).inc()
        metrics.http_request_duration.labels(route, method).observe(elapsed)
        # Not asked of probes: a lazy session user would cost them a query.
        user = getattr(request, "user", None) if request.path not in QUIET_PATHS else None
        order_id = (match.kwargs.get("pk") or match.kwargs.get("order_id")) if match else None
        # Not in the URL (a create, an inbound webhook): the one order its commands concerned.
        order_id = order_id or collected.only("order_id")
        logger.log(
            logging.DEBUG if request.path in QUIET_PATHS else logging.INFO,
            "%s %s %s",
            request.method,
            request.path,
            response.status_code,
            extra={
                "method": request.method,
                "path": request.path,
                "route": route,
                "status": response.status_code,
                "duration_ms": round(elapsed * 1000, 2),
                # A string, as on every other line (shared/log_context.py).
                "user_id": str(user.pk) if user is not None and user.is_authenticated else None,
                "order_id": str(order_id) if order_id else None,
            },
        )
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
