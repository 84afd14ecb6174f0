"""``/metrics``: the Prometheus exposition of the service.

Two parts. The counters and histograms of ``shared/metrics.py``, counted by whichever process
did the work: with ``PROMETHEUS_MULTIPROC_DIR`` set (``make run-prod`` sets it; every gunicorn
worker and Celery process on the machine writes there), the sum over all of them, whichever
worker answers the scrape. And what the database knows, read at scrape time so that any process
tells the same: each subscription segment's position, events behind and the oldest one's age,
parked and dead events, and the head of the log.

Access: an address in ``OMS_METRICS_ALLOWED_NETWORKS`` or ``Authorization: Bearer
<OMS_METRICS_TOKEN>``; otherwise 403 (404 when neither is configured). A request that carries a
proxy header (``Via``, ``Forwarded``, any ``X-Forwarded-*``, ``X-Real-IP``...; the list is in
``shared/client_address.py``) that no proxy declared in ``OMS_TRUSTED_PROXIES`` accounts for needs
the token: its connection's address is the proxy's. A same-host proxy that adds none of them looks
local: ``check --deploy`` warns while loopback is let in by default without a token (oms.W001).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
from collections.abc import Iterator

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from apps.events import lag, store
from apps.outbound import queries as outbound_queries
from core.problems import PROBLEM_CONTENT_TYPE, problem
from shared import clock
from shared.client_address import client_address, forwarded_untrusted

logger = logging.getLogger(__name__)


class LogCollector(Collector):
    """Gauges read from the log and the subscriptions' checkpoints when scraped."""

    def collect(self) -> Iterator[Metric]:
        try:
            collected = list(self._from_the_database())
        except DatabaseError:
            # The process's own counts are still worth a scrape while the database is away.
            logger.warning("metrics: the database did not answer", exc_info=True)
            collected = []
        yield from collected
        yield GaugeMetricFamily(
            "oms_metrics_database_up",
            "1 when this scrape could read the database, else 0.",
            value=1 if collected else 0,
        )

    def _from_the_database(self) -> Iterator[Metric]:
        labels = ["subscription", "segment"]
        position = GaugeMetricFamily(
            "oms_subscription_position", "Last log position a segment handled.", labels=labels
        )
        behind = GaugeMetricFamily(
            "oms_subscription_lag_events",
            "Events of a segment committed after its position (not handled yet).",
            labels=labels,
        )
        behind_seconds = GaugeMetricFamily(
            "oms_subscription_lag_seconds",
            "Age of the oldest event a segment has not handled yet (0 when none).",
            labels=labels,
        )
        parked = GaugeMetricFamily(
            "oms_subscription_parked_events",
            "Events whose handler failed and that wait for a retry.",
            labels=labels,
        )
        dead = GaugeMetricFamily(
            "oms_subscription_dead_events",
            "Events given up after their retries (dead letters), not resolved yet.",
            labels=labels,
        )
        for segment in lag.status(clock.now()):
            key = [segment.subscription, str(segment.segment)]
            position.add_metric(key, segment.position)
            behind.add_metric(key, segment.behind)
            behind_seconds.add_metric(key, segment.oldest_behind_seconds or 0.0)
            parked.add_metric(key, segment.parked)
            dead.add_metric(key, segment.dead)
        yield from (position, behind, behind_seconds, parked, dead)
        yield GaugeMetricFamily(
            "oms_log_head_position",
            "Last committed position of the event log.",
            value=store.head_position(),
        )
        pending = outbound_queries.pending()
        yield GaugeMetricFamily(
            "oms_outbound_pending_messages",
            "Outbound webhook messages not delivered or given up yet.",
            value=pending.count,
        )
        yield GaugeMetricFamily(
            "oms_outbound_oldest_pending_seconds",
            "Age of the oldest outbound webhook message still pending (0 when none).",
            value=pending.oldest_seconds,
        )


_log_registry = CollectorRegistry(auto_describe=False)
_log_registry.register(LogCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    refusal = _refusal(request)
    if refusal is not None:
        return refusal
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    body = generate_latest(counted) + generate_latest(_log_registry)
    return HttpResponse(body, content_type=CONTENT_TYPE_LATEST)


def _refusal(request: HttpRequest) -> HttpResponse | None:
    token = settings.OMS_METRICS_TOKEN
    networks = settings.OMS_METRICS_ALLOWED_NETWORKS
    if not token and not networks:
        return _problem(404, "not_found", "The resource does not exist.", "Metrics are off.")
    if token:
        presented = request.headers.get("Authorization", "")
        if hmac.compare_digest(presented.encode(), f"Bearer {token}".encode()):
            return None
    # Behind a proxy nobody declared, whichever header it names the client in, the connection's
    # address is the proxy's (possibly loopback): only the token is believed then.
    if not forwarded_untrusted(request) and _address_in(client_address(request), networks):
        return None
    return _problem(
        403,
        "permission_denied",
        "You may not perform this action.",
        "Metrics are readable from OMS_METRICS_ALLOWED_NETWORKS or with OMS_METRICS_TOKEN.",
    )


def _address_in(address: str, networks: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def _problem(status: int, code: str, title: str, detail: str) -> JsonResponse:
    return JsonResponse(
        problem(status, code, title, detail), status=status, content_type=PROBLEM_CONTENT_TYPE
    )
