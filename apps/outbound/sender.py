"""Sending due outbound messages: claimed in batches, posted in parallel, every attempt logged.

Order: a message is due only when no earlier message (by log position) of the same order to the
same endpoint is still pending, so an order's events reach an endpoint in the order they
committed, and a retry holds back that order's later messages until it succeeds or is given up.
Other orders are not held back.

Claims: a batch is selected with ``FOR UPDATE SKIP LOCKED`` (PostgreSQL) and marked with a token
and a lease in one short transaction, so two senders never post the same message at once and a
sender that dies leaves its messages due again when the lease ends. No transaction is held while
posting. A message is delivered at least once; its ``webhook-id`` never changes, so a consumer
that deduplicates on it sees it once.

Each post is one attempt of ``apps/outbound/attempt.py`` (the address check, the signature, the
bounded exchange); this module decides which messages go, and what each outcome means for the
message, the order's later messages and the endpoint.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q

from apps.outbound.attempt import (
    Outcome,
    attempt_deadline,
    new_client,
    post,
    shared_client,
    storable,
)
from apps.outbound.models import DeliveryAttempt, MessageStatus, OutboundMessage, WebhookEndpoint
from shared import clock, metrics

logger = logging.getLogger(__name__)


@dataclass
class SendReport:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0  # given up
    latencies: list[float] = field(default_factory=list)


def send_due(
    *,
    limit: int = 500,
    seconds: float | None = None,
    transport: httpx.BaseTransport | None = None,
) -> SendReport:
    """Post due messages until none is due, ``limit`` were attempted or, when given, ``seconds``
    have passed (no new batch is claimed then); what happened.

    An endpoint that fails an attempt gets no further message in this run: a dead or stalling
    endpoint costs one batch per run, not one timeout per order waiting for it.
    """
    concurrency = max(1, settings.OMS_OUTBOUND_CONCURRENCY)
    deadline = None if seconds is None else time.monotonic() + seconds
    report = SendReport()
    failing: set[uuid.UUID] = set()
    client = shared_client() if transport is None else new_client(transport)
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="outbound") as pool:
        while report.attempted < limit and (deadline is None or time.monotonic() < deadline):
            size = min(settings.OMS_OUTBOUND_BATCH_SIZE, limit - report.attempted)
            batch = claim(
                size,
                # Long enough for the batch's slowest wave of posts (each bounded by
                # attempt_deadline()), so that no other sender takes a message still in flight.
                lease=math.ceil(size / concurrency) * attempt_deadline() + 30,
                skip_endpoints=failing,
            )
            if not batch:
                break
            # Threads only talk HTTP; results are written from this thread's connection.
            outcomes = list(pool.map(lambda message: post(client, message), batch))
            record(batch, outcomes)
            for message, outcome in zip(batch, outcomes, strict=True):
                report.attempted += 1
                if not outcome.succeeded:
                    failing.add(message.endpoint_id)
                if outcome.succeeded:
                    report.delivered += 1
                    report.latencies.append((clock.now() - message.created_at).total_seconds())
    return report


def claim(
    size: int, *, lease: float, skip_endpoints: set[uuid.UUID] | None = None
) -> list[OutboundMessage]:
    """Up to ``size`` due messages, each the earliest pending one of its order and endpoint,
    marked as this sender's until ``lease`` seconds from now."""
    now = clock.now()
    earlier_pending = OutboundMessage.objects.filter(
        endpoint_id=OuterRef("endpoint_id"),
        order_id=OuterRef("order_id"),
        position__lt=OuterRef("position"),
        status=MessageStatus.PENDING,
    )
    due = (
        OutboundMessage.objects.filter(
            status=MessageStatus.PENDING, next_attempt_at__lte=now, endpoint__enabled=True
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .filter(~Exists(earlier_pending))
        .exclude(endpoint_id__in=skip_endpoints or ())
        .order_by("next_attempt_at", "id")
    )
    token = uuid.uuid4().hex
    with transaction.atomic():
        if connection.features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True, of=("self",))
        candidates = list(due.values_list("id", "endpoint_id", "endpoint__failing_since")[:size])
        # An endpoint that is failing gets one message per batch (a probe): a dead endpoint
        # with many orders waiting must not fill the batch with timeouts.
        ids, probed = [], set()
        for message_id, endpoint_id, failing_since in candidates:
            if failing_since is not None:
                if endpoint_id in probed:
                    continue
                probed.add(endpoint_id)
            ids.append(message_id)
        if not ids:
            return []
        OutboundMessage.objects.filter(id__in=ids).update(
            claim=token, claimed_until=now + timedelta(seconds=lease)
        )
    return list(
        OutboundMessage.objects.select_related("endpoint").filter(claim=token).order_by("id")
    )


def record(batch: list[OutboundMessage], outcomes: list[Outcome]) -> None:
    """Log each attempt and move each message on (delivered, due again later, or given up), the
    whole batch in one transaction; then each endpoint's failing mark, in a fixed order."""
    now = clock.now()
    results: list[str] = []
    attempts: list[DeliveryAttempt] = []
    endpoints: dict[uuid.UUID, tuple[WebhookEndpoint, Outcome]] = {}
    with transaction.atomic():
        for message, outcome in zip(batch, outcomes, strict=True):
            values, result = _next_state(message, outcome, now)
            results.append(result)
            updated = OutboundMessage.objects.filter(id=message.id, claim=message.claim).update(
                **values
            )
            if not updated:
                continue  # deleted meanwhile, or its lease ran out and another sender has it
            _hold_back_followers(message, values, result)
            attempts.append(
                DeliveryAttempt(
                    message=message,
                    number=values["attempts"],
                    requested_at=now - timedelta(milliseconds=outcome.duration_ms),
                    url=message.endpoint.url,
                    request_headers=getattr(message, "sent_headers", {}),
                    request_body=message.body,
                    response_status=outcome.status,
                    response_headers=outcome.headers,
                    response_body=outcome.body,
                    duration_ms=outcome.duration_ms,
                    error=storable(outcome.error),
                )
            )
            # A success in the batch outweighs its failures: the endpoint answers.
            known = endpoints.get(message.endpoint_id)
            if known is None or outcome.succeeded:
                endpoints[message.endpoint_id] = (message.endpoint, outcome)
        DeliveryAttempt.objects.bulk_create(attempts)
        for endpoint_id in sorted(endpoints):  # one lock order for every sender
            endpoint, outcome = endpoints[endpoint_id]
            _track_endpoint(endpoint, outcome, now)
    for message, outcome, result in zip(batch, outcomes, results, strict=True):
        _observe(message, outcome, result)


def _next_state(
    message: OutboundMessage, outcome: Outcome, now: datetime
) -> tuple[dict[str, Any], str]:
    attempts = message.attempts + 1
    schedule = settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS
    values: dict[str, Any] = {
        "attempts": attempts,
        "last_status": outcome.status,
        "last_error": storable(outcome.error or ("" if outcome.succeeded else outcome.body[:2000])),
        "claim": "",
        "claimed_until": None,
    }
    if outcome.succeeded:
        values.update(status=MessageStatus.DELIVERED, delivered_at=now)
        return values, "delivered"
    retries = attempts - message.schedule_start  # the schedule starts over after a redelivery
    if retries > len(schedule):
        values["status"] = MessageStatus.FAILED
        values["next_attempt_at"] = now
        return values, "given_up"
    delay = max(schedule[retries - 1], outcome.retry_after or 0.0)
    values["next_attempt_at"] = now + timedelta(seconds=delay)
    return values, "retrying"


def _hold_back_followers(message: OutboundMessage, values: dict[str, Any], result: str) -> None:
    """The order's later messages to this endpoint come due with this one, not before: they
    would only be read and passed over by every claim meanwhile."""
    if result == "delivered":
        return
    OutboundMessage.objects.filter(
        endpoint_id=message.endpoint_id,
        order_id=message.order_id,
        position__gt=message.position,
        status=MessageStatus.PENDING,
    ).update(next_attempt_at=values["next_attempt_at"])


def _observe(message: OutboundMessage, outcome: Outcome, result: str) -> None:
    metrics.outbound_deliveries.labels(result).inc()
    logger.log(
        logging.INFO if outcome.succeeded else logging.WARNING,
        "webhook %s to endpoint %s: %s",
        message.webhook_id,
        message.endpoint_id,
        result,
        extra={
            "endpoint_id": str(message.endpoint_id),
            # The host only: a path or query may carry the receiver's own secret.
            "endpoint_host": urlsplit(message.endpoint.url).hostname,
            "webhook_id": message.webhook_id,
            "event_id": str(message.event_id),
            "order_id": str(message.order_id),
            "event_type": message.event_type,
            "attempt": message.attempts + 1,
            "status": outcome.status,
            "outcome": result,
            "error": outcome.error[:500],
            "duration_ms": outcome.duration_ms,
        },
    )


def _track_endpoint(endpoint: WebhookEndpoint, outcome: Outcome, now: datetime) -> None:
    """Clear the failing mark on success; start or extend a failing streak; disable an endpoint
    whose every attempt failed for longer than ``OMS_OUTBOUND_DISABLE_AFTER_SECONDS``."""
    rows = WebhookEndpoint.objects.filter(id=endpoint.id)
    if outcome.succeeded:
        rows.filter(failing_since__isnull=False).update(failing_since=None, updated_at=now)
        return
    period = timedelta(seconds=settings.OMS_OUTBOUND_DISABLE_AFTER_SECONDS)
    # A streak starts at the first failure, or anew when nothing was tried for longer than the
    # period plus the longest wait between retries (no evidence it failed all along).
    quiet = period + timedelta(seconds=max(settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS))
    rows.filter(Q(failing_since__isnull=True) | Q(last_failure_at__lt=now - quiet)).update(
        failing_since=now
    )
    rows.update(last_failure_at=now, updated_at=now)
    reason = outcome.error or f"answered {outcome.status}"
    disabled = rows.filter(enabled=True, failing_since__lte=now - period).update(
        enabled=False,
        disabled_at=now,
        disabled_reason=f"Every attempt failed for over "
        f"{settings.OMS_OUTBOUND_DISABLE_AFTER_SECONDS:.0f} s; the last: {reason[:500]}",
    )
    if disabled:
        logger.warning("webhook endpoint %s disabled: failing too long", endpoint.id)


def purge_attempts(now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete attempts older than the retention, and messages delivered or given up before it
    (a replay writes them again, with the same ids), in small batches; how many rows went."""
    moment = now or clock.now()
    cutoff = moment - timedelta(days=settings.OMS_OUTBOUND_ATTEMPT_RETENTION_DAYS)
    deleted = _purge(DeliveryAttempt.objects.filter(requested_at__lt=cutoff), batch_size)
    finished = OutboundMessage.objects.filter(
        status__in=(MessageStatus.DELIVERED, MessageStatus.FAILED), next_attempt_at__lt=cutoff
    ).exclude(delivered_at__gte=cutoff)
    return deleted + _purge(finished, batch_size)


def _purge(rows: Any, batch_size: int) -> int:
    deleted = 0
    while True:
        ids = list(rows.values_list("id", flat=True)[:batch_size])
        if not ids:
            return deleted
        deleted += rows.model.objects.filter(id__in=ids).delete()[0]
