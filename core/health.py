"""``/healthz`` (the process answers) and ``/readyz`` (it can do its work), for load balancers,
orchestrators and ``make run-prod``.

Readiness checks the database, the broker when Celery runs the subscriptions
(``OMS_READY_CHECK_BROKER``), and the subscriptions themselves: the oldest event one has not
handled must be younger than ``OMS_READY_MAX_LAG_SECONDS``, and no segment with work may have
kept its checkpoint still for longer than ``OMS_READY_STALL_SECONDS``. A failure is a 503
problem document naming every failed check, so an operator reads why without another tool.
Either answer names the payment provider and carrier clients in use and whether they are
simulated, so a demo running on simulated clients cannot pass for a real deployment.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from kombu import Connection

from apps.events import lag
from core.problems import PROBLEM_CONTENT_TYPE, problem
from core.providers import configured_clients
from shared import clock

BROKER_TIMEOUT_SECONDS = 2


class NotReady(Exception):
    """A readiness check failed; the message says why."""


def healthz(request: HttpRequest) -> JsonResponse:
    """Alive: the process answers requests. Asks nothing else, so a database outage does not get
    every web process restarted by its supervisor."""
    return JsonResponse({"status": "ok"})


def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Callable[[], dict[str, Any]]] = {"database": _database}
    if settings.OMS_READY_CHECK_BROKER:
        checks["broker"] = _broker
    if settings.OMS_READY_CHECK_SUBSCRIPTIONS:
        checks["subscriptions"] = _subscriptions
    results: dict[str, dict[str, Any]] = {}
    failures: list[str] = []
    for name, check in checks.items():
        try:
            results[name] = {"status": "ok", **check()}
        except NotReady as exc:
            results[name] = {"status": "failing", "detail": str(exc)}
            failures.append(f"{name}: {exc}")
        except Exception as exc:  # an unreachable service raises whatever its driver raises
            results[name] = {"status": "failing", "detail": f"{type(exc).__name__}: {exc}"}
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
        if name == "database" and failures:
            break  # the subscriptions are read from the database: nothing more to learn
    providers = {client.role.key: client.as_json() for client in configured_clients()}
    if failures:
        body = problem(
            503,
            "not_ready",
            "The service is not ready.",
            "; ".join(failures),
            checks=results,
            providers=providers,
        )
        return JsonResponse(body, status=503, content_type=PROBLEM_CONTENT_TYPE)
    return JsonResponse({"status": "ready", "checks": results, "providers": providers})


def _database() -> dict[str, Any]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return {}


def _broker() -> dict[str, Any]:
    # Every wait bounded: a broker that accepts the connection and never answers must not hold
    # a web worker (Redis' transport ignores connect_timeout; its socket options do not).
    with Connection(
        settings.CELERY_BROKER_URL,
        connect_timeout=BROKER_TIMEOUT_SECONDS,
        transport_options={
            "socket_connect_timeout": BROKER_TIMEOUT_SECONDS,
            "socket_timeout": BROKER_TIMEOUT_SECONDS,
        },
    ) as broker:
        broker.ensure_connection(max_retries=0, timeout=BROKER_TIMEOUT_SECONDS)
        broker.default_channel  # noqa: B018 (the transport's first exchange with the broker)
    return {}


def _subscriptions() -> dict[str, Any]:
    now = clock.now()
    segments = lag.status(now)
    max_lag = settings.OMS_READY_MAX_LAG_SECONDS
    oldest = max((s.oldest_behind_seconds or 0.0 for s in segments), default=0.0)
    stalled = [
        f"{s.subscription}[{s.segment}]"
        for s in segments
        if s.stalled(settings.OMS_READY_STALL_SECONDS, now)
    ]
    problems = []
    if oldest > max_lag:
        problems.append(f"the oldest unhandled event is {oldest:.0f} s old (bound {max_lag:.0f} s)")
    if stalled:
        problems.append(
            f"stalled for over {settings.OMS_READY_STALL_SECONDS:.0f} s with events waiting: "
            + ", ".join(stalled)
        )
    if problems:
        raise NotReady("; ".join(problems))
    return {
        "oldest_unhandled_seconds": round(oldest, 3),
        "events_behind": sum(s.behind for s in segments),
    }
