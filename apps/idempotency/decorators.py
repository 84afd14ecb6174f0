"""``@idempotent``: make a DRF view's state-changing handler safe to retry.

Put it on the handler method (``def post(self, request, ...)``), above or below ``extend_schema``::

    class OrderCancelView(APIView):
        @idempotent
        @extend_schema(...)
        def post(self, request: Request, order_id: uuid.UUID) -> Response: ...

The handler runs after DRF has authenticated the caller and checked permissions. With a key, the
decorator opens one transaction around the whole handler: it claims the key (the record insert),
runs the handler, stores a 2xx response in the record and commits all of it together. Any other
outcome (an exception, or a response that is not 2xx) rolls everything back, the record included,
so the client can correct the request and retry with the same key.

A replay answers without running the handler. Whatever the handler would refuse in a part of the
request the fingerprint leaves out (its headers: a malformed ``If-Match``) must be refused before
the replay too, or the same request would be a 400 the first time and a 200 the second. Check it
in the view's ``initial()``: DRF runs that after authentication and permissions and before the
handler, on every request, new or replayed. A base view shared by the endpoints that read such a
header checks it once for all of them, and can keep what it parsed on the request for the
handler.

For a view in an app that must not import this one, wrap its route instead (see
:func:`idempotent_routes`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpResponseBase
from django.urls import URLPattern, URLResolver
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.status import is_success
from rest_framework.views import APIView

from apps.idempotency import records
from apps.idempotency.keys import HEADER, fingerprint_of, idempotency_key_of, owner_of, scope_of
from apps.idempotency.schema import idempotent_schema
from shared import metrics

Handler = TypeVar("Handler", bound=Callable[..., HttpResponseBase])
V = TypeVar("V", bound=type[APIView])

_CLAIMED = "_idempotency_claimed"


class _Discarded(Exception):
    """Carries a non-2xx response out of the transaction so that the transaction rolls back."""

    def __init__(self, response: HttpResponseBase) -> None:
        super().__init__(response.status_code)
        self.response = response


def idempotent(handler: Handler) -> Handler:
    """Make ``handler`` (a DRF view method) idempotent under the ``Idempotency-Key`` header."""

    @functools.wraps(handler)
    def wrapper(view: APIView, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        key = idempotency_key_of(request)
        owner = owner_of(request)
        if key is None and settings.OMS_IDEMPOTENCY_KEY_REQUIRED:
            raise ValidationError({HEADER: ["This request needs an Idempotency-Key header."]})
        # Without a key (or a caller to scope it to) there is nothing to remember; a handler that
        # calls another idempotent handler of the same request is already inside the claim.
        if key is None or owner is None or getattr(request, _CLAIMED, False):
            return handler(view, request, *args, **kwargs)
        setattr(request, _CLAIMED, True)
        try:
            with transaction.atomic():
                claim = records.claim(
                    owner=owner,
                    scope=scope_of(request),
                    key=key,
                    fingerprint=fingerprint_of(request),
                )
                if not claim.is_new:
                    route = "/" + (getattr(request.resolver_match, "route", "") or "unknown")
                    metrics.idempotent_replays.labels(route).inc()
                    return records.replay(claim.record)
                response = handler(view, request, *args, **kwargs)
                if not is_success(response.status_code):
                    raise _Discarded(response)
                if not isinstance(response, Response):
                    raise TypeError(f"@idempotent needs a DRF Response, not {type(response)}")
                records.remember(claim.record, response)
                return response
        except _Discarded as discarded:
            return discarded.response
        finally:
            setattr(request, _CLAIMED, False)

    # functools.wraps shares the handler's ``kwargs`` dict (where extend_schema keeps its schema
    # class); a copy keeps the undecorated handler's documentation unchanged.
    schema_kwargs = dict(getattr(handler, "kwargs", {}))
    schema_kwargs["schema"] = idempotent_schema(schema_kwargs.get("schema"))
    wrapper.kwargs = schema_kwargs  # type: ignore[attr-defined]
    return cast(Handler, wrapper)


def idempotent_view(view_class: V, methods: Iterable[str] = ("post",)) -> V:
    """A subclass of ``view_class`` whose ``methods`` handlers are :func:`idempotent`."""
    overrides: dict[str, Any] = {name: idempotent(getattr(view_class, name)) for name in methods}
    overrides["__module__"] = view_class.__module__
    overrides["__doc__"] = view_class.__doc__
    return cast(V, type(view_class.__name__, (view_class,), overrides))


def idempotent_routes(
    patterns: Iterable[URLPattern | URLResolver], *names: str
) -> list[URLPattern | URLResolver]:
    """``patterns`` with the views of the routes called ``names`` made idempotent (their POST).

    For an app that must not import this one (``apps.events`` is below it): the project's URL
    configuration composes the two, and the app's own code stays unaware of idempotency.
    """
    patterns = list(patterns)
    known = {pattern.name for pattern in patterns if isinstance(pattern, URLPattern)}
    if missing := set(names) - known:
        raise ImproperlyConfigured(f"no routes named {sorted(missing)} to make idempotent")
    return [
        _idempotent_route(pattern)
        if isinstance(pattern, URLPattern) and pattern.name in names
        else pattern
        for pattern in patterns
    ]


def _idempotent_route(pattern: URLPattern) -> URLPattern:
    view_class = getattr(pattern.callback, "view_class", None)
    if view_class is None or not issubclass(view_class, APIView):
        raise ImproperlyConfigured(f"route {pattern.name!r} is not a DRF APIView")
    initkwargs = getattr(pattern.callback, "view_initkwargs", {})
    callback = idempotent_view(view_class).as_view(**initkwargs)
    return URLPattern(pattern.pattern, callback, pattern.default_args, pattern.name)
