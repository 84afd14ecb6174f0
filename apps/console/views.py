"""The operator console: server-rendered pages for staff (``/console/``).

Each page renders whole on its first load; its live part is rendered again alone when asked with
``?fragment=1``, which ``console.js`` does every few seconds, so a page follows the flow without
a reload. Commands go through the same services as the API (and refusals show its problem
details); forms are CSRF-protected.
"""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from apps.console import queries
from apps.console.access import staff_page
from apps.events import lag
from apps.events.dead_letters import retry_dead
from apps.orders.api.v1.serializers import CancelOrderInputSerializer, order_payload
from apps.orders.commands import Actor, CancelOrder, StartProcessing
from apps.orders.queries import get_order_for
from apps.orders.services import OrderService
from apps.shipping.commands import RecordDelivered, ShipOrder
from apps.shipping.services import ShippingService
from apps.webhooks.models import Provider, WebhookOutcome
from core.providers import configured_clients
from shared import clock
from shared.exceptions import DomainError

REFRESH_SECONDS = 5
# Ids and versions as the forms send them: ASCII digits, short enough for a bigint.
NUMBER = re.compile(r"[0-9]{1,18}")


def _page(request: HttpRequest, name: str, context: dict[str, Any]) -> HttpResponse:
    """The page, or only its live part when the page's script asks for it."""
    context = {**context, "refresh_seconds": REFRESH_SECONDS, "section": name}
    if request.GET.get("fragment") == "1":
        return render(request, f"console/_{name}.html", context)
    # Named on every page: an operator must not take a demo on simulated clients for the real
    # thing (the layout shows them; see core.providers).
    return render(
        request, f"console/{name}.html", {**context, "provider_clients": configured_clients()}
    )


@staff_page
def flow(request: HttpRequest) -> HttpResponse:
    return _page(request, "flow", {"flow": queries.flow()})


@staff_page
def subscriptions(request: HttpRequest) -> HttpResponse:
    now = clock.now()
    rows = [
        {"status": row, "stalled": row.stalled(settings.OMS_READY_STALL_SECONDS, now)}
        for row in lag.status(now)
    ]
    return _page(request, "subscriptions", {"rows": rows})


@staff_page
def failures(request: HttpRequest) -> HttpResponse:
    handler = request.GET.get("handler", "")
    event_type = request.GET.get("event_type", "")
    return _page(
        request,
        "failures",
        {
            "rows": queries.failed_deliveries(handler=handler, event_type=event_type),
            "filters": queries.failed_filters(),
            "handler": handler,
            "event_type": event_type,
        },
    )


@staff_page
@require_POST
def retry(request: HttpRequest) -> HttpResponse:
    """Retry the selected dead letters once each (the dead-letter API's service)."""
    ids = [int(value) for value in request.POST.getlist("parked") if NUMBER.fullmatch(value)]
    if not ids:
        messages.warning(request, "Select the dead letters to retry.")
    for parked_id in ids:
        outcome = retry_dead(parked_id)
        level = messages.SUCCESS if outcome == "succeeded" else messages.ERROR
        messages.add_message(request, level, f"Dead letter {parked_id}: {outcome}.")
    return redirect(_back_to_failures(request))


def _back_to_failures(request: HttpRequest) -> str:
    """The failures page the form was on (its filters kept, never its live part alone), and
    only on this site."""
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return reverse("console:failures")
    parts = urlsplit(target)
    query = [(key, value) for key, value in parse_qsl(parts.query) if key != "fragment"]
    return urlunsplit(("", "", parts.path, urlencode(query), ""))


@staff_page
def stuck(request: HttpRequest) -> HttpResponse:
    return _page(request, "stuck", {"rows": queries.stuck_orders()})


@staff_page
def webhooks(request: HttpRequest) -> HttpResponse:
    outcome = request.GET.get("outcome", "")
    provider = request.GET.get("provider", "")
    outcome = outcome if outcome in WebhookOutcome.values else ""
    provider = provider if provider in Provider.values else ""
    return _page(
        request,
        "webhooks",
        {
            **queries.webhooks(outcome=outcome, provider=provider),
            "outcome": outcome,
            "provider": provider,
            "outcomes": WebhookOutcome.choices,
            "providers": Provider.choices,
        },
    )


# The commands the console has a form for, with their buttons' labels. Which of them an order
# offers is its ``allowed_actions`` for the operator (the API's rule); ``pay`` belongs to the
# customer and ``refund`` needs an amount, so the console leaves both to the API.
COMMAND_LABELS = {
    "cancel": "Cancel",
    "process": "Start processing",
    "ship": "Ship",
    "deliver": "Mark delivered",
}


def _operator(request: HttpRequest) -> Actor:
    return Actor(user_id=request.user.pk, is_staff=bool(request.user.is_staff))


@staff_page
def order(request: HttpRequest, order_id: uuid.UUID) -> HttpResponse:
    try:
        found = get_order_for(request.user, order_id)
    except DomainError:
        return render(request, "console/not_found.html", {"order_id": order_id}, status=404)
    representation = order_payload(found, viewer=_operator(request))
    commands = [
        {"name": name, "label": COMMAND_LABELS[name]}
        for name in representation["allowed_actions"]
        if name in COMMAND_LABELS
    ]
    return _page(
        request,
        "order",
        {
            "order": representation,
            "commands": commands,
            "timeline": queries.timeline(order_id),
            "problem": request.session.pop(_problem_key(order_id), None),
        },
    )


@staff_page
@require_POST
def command(request: HttpRequest, order_id: uuid.UUID, name: str) -> HttpResponse:
    """Issue ``name`` on the order at the version the page showed (as ``If-Match`` does)."""
    version = request.POST.get("version", "")
    if not NUMBER.fullmatch(version):
        request.session[_problem_key(order_id)] = {
            "status": 400,
            "code": "validation_error",
            "title": "The command needs the order's version.",
            "detail": "Reload the page and issue the command again.",
        }
        return redirect("console:order", order_id=order_id)
    expected = int(version)
    actor = _operator(request)
    reason = ""
    if name == "cancel":
        # The API's own rule for a cancel reason (printable, trimmed, at most 500 characters).
        given = CancelOrderInputSerializer(data={"reason": request.POST.get("reason", "")})
        if not given.is_valid():
            request.session[_problem_key(order_id)] = {
                "status": 400,
                "code": "validation_error",
                "title": "The request is not valid.",
                "detail": "reason: " + " ".join(map(str, given.errors["reason"])),
            }
            return redirect("console:order", order_id=order_id)
        reason = given.validated_data["reason"]
    try:
        if name == "cancel":
            OrderService().cancel_order(
                CancelOrder(
                    actor=actor, order_id=order_id, reason=reason, expected_version=expected
                )
            )
        elif name == "process":
            OrderService().start_processing(
                StartProcessing(actor=actor, order_id=order_id, expected_version=expected)
            )
        elif name == "ship":
            ShippingService().ship(
                ShipOrder(actor=actor, order_id=order_id, expected_version=expected)
            )
        elif name == "deliver":
            ShippingService().record_delivered(
                RecordDelivered(actor=actor, order_id=order_id, expected_version=expected)
            )
        else:
            return HttpResponse(status=404)
    except DomainError as exc:
        request.session[_problem_key(order_id)] = {
            "status": exc.status,
            "code": exc.code,
            "title": exc.title,
            "detail": exc.detail,
            **{
                key: ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)
                for key, value in exc.extra.items()
            },
        }
    else:
        messages.success(request, f"{name.capitalize()}: done.")
    return redirect("console:order", order_id=order_id)


def _problem_key(order_id: uuid.UUID) -> str:
    # Per order: a refusal is shown on its own order's page, whatever other tabs refresh.
    return f"console_problem:{order_id}"
