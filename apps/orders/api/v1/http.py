"""What the order endpoints, and the payment and shipping endpoints beside them, read from a
request (who acts, the version it expects), whom they let issue a command, and what they answer
with (an order)."""

from __future__ import annotations

import re
from typing import cast

from django.core.exceptions import ImproperlyConfigured
from django.db.models import prefetch_related_objects
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.orders import actions, sections
from apps.orders.api.v1 import serializers as s
from apps.orders.commands import Actor
from apps.orders.models import Order
from shared.openapi import IF_MATCH_PATTERN


def customer_id_of(request: Request) -> int:
    user_id = request.user.pk
    assert isinstance(user_id, int), "views that create orders require authentication"
    return user_id


def actor_of(request: Request) -> Actor:
    return Actor(user_id=request.user.pk, is_staff=bool(request.user.is_staff))


_EXPECTED_VERSION = "_oms_expected_version"
_IF_MATCH = re.compile(IF_MATCH_PATTERN.replace("$", r"\Z"))


class OrderCommandView(APIView):
    """The base of every endpoint that issues a command on an existing order.

    Its ``If-Match`` is parsed once, in ``initial()``: DRF runs that after authentication and
    permissions and before the handler, so a malformed header is refused ahead of everything the
    handler's decorators do, an idempotent replay included (the key's fingerprint leaves headers
    out: without this the same request would be a 400 the first time and a replayed 200 the
    second). The handler reads the parsed version with :func:`expected_version_of`.
    """

    def initial(self, request: Request, *args: object, **kwargs: object) -> None:
        super().initial(request, *args, **kwargs)
        setattr(request, _EXPECTED_VERSION, _parse_if_match(request.headers.get("If-Match")))


def _parse_if_match(value: str | None) -> int | None:
    if value is None:
        return None
    if not _IF_MATCH.match(value):
        raise ValidationError({"If-Match": ['Must be an order version such as "3".']})
    return int(value.removeprefix("W/").strip('"'))


def expected_version_of(request: Request) -> int | None:
    """The version the request's ``If-Match`` names (None without one), as
    :class:`OrderCommandView` parsed it before the handler ran."""
    try:
        return cast(int | None, getattr(request, _EXPECTED_VERSION))
    except AttributeError:
        # Only the base view's parse runs before an idempotent replay; a view that reads the
        # header any other way would bring back the replayed 200 for a malformed header.
        raise ImproperlyConfigured(
            "expected_version_of() reads what OrderCommandView parsed: "
            "make the view an OrderCommandView"
        ) from None


def permission_to(action: str) -> type[BasePermission]:
    """The permission of the endpoint of ``action``: the rule ``allowed_actions`` lists it by
    (anonymous callers get 401, callers the action is not for 403)."""

    class MayIssue(BasePermission):
        message = f"Only staff may {action} an order."

        def has_permission(self, request: Request, view: APIView) -> bool:
            user = request.user
            if not (user and user.is_authenticated):
                return False
            return actions.may_issue(action, is_staff=bool(user.is_staff))

    MayIssue.__name__ = MayIssue.__qualname__ = f"MayIssue_{action}"
    return MayIssue


def ensure_may_issue(action: str, request: Request) -> None:
    """PermissionDenied (403) unless the caller may issue ``action``, by the same rule, for an
    endpoint that first makes sure the order is visible to them (404 otherwise)."""
    if not actions.may_issue(action, is_staff=bool(request.user.is_staff)):
        raise PermissionDenied(f"Only staff may {action} an order.")


def order_response(
    order: Order, code: int = 200, *, viewer: Actor, created: bool = False
) -> Response:
    """The order as it stands, from the object in hand: the one a command wrote and returned, or
    the one a read loaded. Nothing it wrote is read back (its ETag is the version it wrote);
    a command's order gets its items (no command changes them) and the other apps' sections
    read, unless it was just created: reactions start after the commit, so it has none yet.
    ``viewer``: the caller, whose ``allowed_actions`` it lists."""
    if created:
        known = sections.none_yet()
    else:
        prefetch_related_objects([order], "items")
        known = sections.carried_by(order) or sections.sections_for([order.id])
    response = Response(s.order_payload(order, known, viewer=viewer), status=code)
    response["ETag"] = f'"{order.version}"'
    return response
