"""RFC 9457 problem details for every error the API returns.

One exception handler maps DRF's own exceptions and the domain errors of ``shared.exceptions`` to
``application/problem+json`` documents with ``type``, ``title``, ``status``, ``detail`` and a
stable ``code``. Django-level 404/500 pages under ``/api/`` use the same format.
"""

from __future__ import annotations

import logging
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.parsers import too_large
from shared.exceptions import DomainError

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"
TYPE_BASE = "https://oms.example/problems/"
API_PREFIX = "/api/"

# Answers that never reached a view (unknown path, bad Host header, a failing middleware).
_GENERIC: dict[int, tuple[str, str]] = {
    400: ("bad_request", "The request is not valid."),
    403: ("permission_denied", "You may not perform this action."),
    404: ("not_found", "The resource does not exist."),
    405: ("method_not_allowed", "The method is not allowed here."),
    413: ("payload_too_large", "The request body is too large."),
    500: ("internal_error", "Internal server error."),
}

_DRF_CODES: dict[type[drf.APIException], tuple[str, str]] = {
    drf.ValidationError: ("validation_error", "The request is not valid."),
    drf.ParseError: ("malformed_request", "The request body could not be parsed."),
    drf.NotAuthenticated: ("not_authenticated", "Authentication is required."),
    drf.AuthenticationFailed: ("authentication_failed", "The credentials are not valid."),
    drf.PermissionDenied: ("permission_denied", "You may not perform this action."),
    drf.NotFound: ("not_found", "The resource does not exist."),
    drf.MethodNotAllowed: ("method_not_allowed", "The method is not allowed here."),
    drf.NotAcceptable: ("not_acceptable", "No acceptable representation is available."),
    drf.UnsupportedMediaType: ("unsupported_media_type", "The media type is not supported."),
    drf.Throttled: ("throttled", "Too many requests."),
}


def problem(status: int, code: str, title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {
        "type": TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
        **extra,
    }


def problem_response(body: dict[str, Any], headers: dict[str, str] | None = None) -> Response:
    return Response(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE, headers=headers)


def _drf_problem(exc: drf.APIException) -> dict[str, Any]:
    code, title = next(
        (value for cls, value in _DRF_CODES.items() if isinstance(exc, cls)),
        ("error", "The request failed."),
    )
    if isinstance(exc, drf.ValidationError):
        errors = exc.detail
        return problem(
            exc.status_code,
            code,
            title,
            "One or more fields are invalid; see `errors`.",
            errors=errors,
        )
    return problem(exc.status_code, code, title, str(exc.detail))


def problem_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    headers: dict[str, str] = {}
    if isinstance(exc, RequestDataTooBig):
        exc = too_large(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
    if isinstance(exc, DomainError):
        body = problem(exc.status, exc.code, exc.title, exc.detail, **exc.problem_fields())
        set_rollback()
        return problem_response(body)
    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    if isinstance(exc, drf.APIException):
        if isinstance(exc, drf.NotAuthenticated | drf.AuthenticationFailed):
            request = context.get("request")
            view = context.get("view")
            authenticate_header = view.get_authenticate_header(request) if view else None
            if authenticate_header:
                headers["WWW-Authenticate"] = authenticate_header
            else:
                exc.status_code = 403
        wait = getattr(exc, "wait", None)
        if isinstance(exc, drf.Throttled) and wait is not None:
            # Whole seconds, rounded up: "0" would invite an immediate retry that is refused too.
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        set_rollback()
        return problem_response(_drf_problem(exc), headers)
    if isinstance(exc, OperationalError | InterfaceError):
        # The database went away or refused the transaction (a dropped connection, a restart, a
        # serialization failure): nothing of the request committed unless the COMMIT itself was
        # lost, and a retry with the same Idempotency-Key is safe either way. Not a bug: 503.
        logger.warning("database unavailable in %s: %s", context.get("view"), exc)
        set_rollback()
        return problem_response(
            problem(
                503,
                "database_unavailable",
                "The database is not available.",
                "The request could not be completed because the database connection failed. "
                "Retry it; with the same Idempotency-Key a retry is never applied twice.",
            ),
            {"Retry-After": "1"},
        )
    # Anything else is a bug: log it and answer a problem document instead of an HTML page.
    logger.exception("unhandled error in %s", context.get("view"))
    set_rollback()
    return problem_response(
        problem(500, "internal_error", "Internal server error.", "An unexpected error occurred.")
    )


def _json_problem(body: dict[str, Any]) -> JsonResponse:
    return JsonResponse(body, status=body["status"], content_type=PROBLEM_CONTENT_TYPE)


def generic_problem_response(
    status: int, path: str, original: HttpResponse | None = None
) -> HttpResponse:
    """The problem document for an error answered outside the DRF views."""
    code, title = _GENERIC.get(status, ("error", "The request failed."))
    details = {
        400: "The request could not be understood (for example, its Host header is not allowed).",
        404: f"No route for {path}.",
        405: "The method is not allowed here.",
        500: "An unexpected error occurred.",
    }
    response = _json_problem(problem(status, code, title, details.get(status, title)))
    if original is not None and original.has_header("Allow"):
        response["Allow"] = original["Allow"]
    return response


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.page_not_found(request, exception or Http404())
    return generic_problem_response(404, request.path)


def server_error_view(request: HttpRequest) -> HttpResponse:
    if not request.path.startswith(API_PREFIX):
        return defaults.server_error(request)
    return generic_problem_response(500, request.path)
