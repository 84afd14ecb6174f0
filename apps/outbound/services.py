"""What staff do with outbound webhooks: register and change endpoints, rotate their secrets,
redeliver one message, replay an endpoint from a log position or a time."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils.dateparse import parse_datetime

from apps.events import store
from apps.events.models import StoredEvent, SubscriptionCheckpoint
from apps.events.subscriptions import segment_of
from apps.outbound.addresses import check_endpoint_url
from apps.outbound.handlers import FanOutHandler, messages_for
from apps.outbound.models import MessageStatus, OutboundMessage, WebhookEndpoint
from apps.outbound.names import public_names
from apps.outbound.signing import new_secret
from shared import clock
from shared.exceptions import InvalidCommand, NotFound


class UnknownEventType(InvalidCommand):
    code = "unknown_event_type"
    title = "No event has this name."


@dataclass(frozen=True)
class Registered:
    endpoint: WebhookEndpoint
    secret: str  # shown once


def _checked_types(event_types: Iterable[str]) -> list[str]:
    known = set(public_names())
    wanted = sorted(set(event_types))
    unknown = [name for name in wanted if name not in known]
    if unknown:
        raise UnknownEventType(
            f"Unknown event types: {', '.join(unknown)}.", known_event_types=sorted(known)
        )
    return wanted


def endpoint(endpoint_id: uuid.UUID) -> WebhookEndpoint:
    found = WebhookEndpoint.objects.filter(id=endpoint_id).first()
    if found is None:
        raise NotFound(f"Webhook endpoint {endpoint_id} does not exist.")
    return found


def register(
    *, url: str, description: str = "", event_types: Iterable[str] = (), enabled: bool = True
) -> Registered:
    check_endpoint_url(url)
    wanted = _checked_types(event_types)
    now = clock.now()
    secret = new_secret()
    with transaction.atomic():
        # The lock that orders the log's commits, held until this commits: no event commits
        # between the head read here and the endpoint becoming visible, so none after
        # ``start_position`` can be fanned out without seeing it.
        store.hold_log_commits()
        created = _create_endpoint(url, description, wanted, enabled, secret, now)
    return Registered(created, secret)


def _create_endpoint(
    url: str, description: str, event_types: list[str], enabled: bool, secret: str, now: datetime
) -> WebhookEndpoint:
    return WebhookEndpoint.objects.create(
        url=url,
        description=description,
        event_types=event_types,
        enabled=enabled,
        secret=secret,
        # From now on: what committed before is sent only when replayed.
        start_position=store.head_position(),
        created_at=now,
        updated_at=now,
    )


def change(
    endpoint_id: uuid.UUID,
    *,
    url: str | None = None,
    description: str | None = None,
    event_types: Iterable[str] | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    with transaction.atomic():
        found = WebhookEndpoint.objects.select_for_update().filter(id=endpoint_id).first()
        if found is None:
            raise NotFound(f"Webhook endpoint {endpoint_id} does not exist.")
        if url is not None:
            check_endpoint_url(url)
            found.url = url
        if description is not None:
            found.description = description
        if event_types is not None:
            found.event_types = _checked_types(event_types)
        if enabled is not None:
            if enabled and not found.enabled:
                # Enabled again by staff: its failure record starts over.
                found.disabled_reason, found.disabled_at, found.failing_since = "", None, None
            found.enabled = enabled
        found.updated_at = clock.now()
        found.save()
    return found


def rotate_secret(endpoint_id: uuid.UUID, *, overlap_seconds: float | None = None) -> Registered:
    """A new secret; the previous one keeps signing beside it for ``overlap_seconds``."""
    overlap = (
        settings.OMS_OUTBOUND_SECRET_OVERLAP_SECONDS if overlap_seconds is None else overlap_seconds
    )
    now = clock.now()
    secret = new_secret()
    with transaction.atomic():
        found = WebhookEndpoint.objects.select_for_update().filter(id=endpoint_id).first()
        if found is None:
            raise NotFound(f"Webhook endpoint {endpoint_id} does not exist.")
        found.previous_secret = found.secret
        found.previous_secret_expires_at = now + timedelta(seconds=overlap)
        found.secret = secret
        found.updated_at = now
        found.save()
    return Registered(found, secret)


def redeliver(endpoint_id: uuid.UUID, message_id: int) -> OutboundMessage:
    """Send one message again, now (same ``webhook-id``), whatever became of it."""
    message = OutboundMessage.objects.filter(id=message_id, endpoint_id=endpoint_id).first()
    if message is None:
        raise NotFound(f"Message {message_id} of endpoint {endpoint_id} does not exist.")
    OutboundMessage.objects.filter(id=message.id).update(**_due_again(clock.now()))
    message.refresh_from_db()
    return message


def _due_again(now: datetime) -> dict[str, Any]:
    """A message sent again by staff: due now, its retry schedule starting over."""
    return {
        "status": MessageStatus.PENDING,
        "next_attempt_at": now,
        "claim": "",
        "claimed_until": None,
        "schedule_start": F("attempts"),
    }


REPLAY_BATCH = 500


class ReplayNeedsOneStart(InvalidCommand):
    code = "replay_needs_one_start"
    title = "Give exactly one of after_position and since."


class NotATime(InvalidCommand):
    code = "not_a_time"
    title = "This is not a time the service can read."


def moment_of(text: str) -> datetime:
    """An ISO 8601 time, in UTC when it names no offset."""
    try:
        moment = parse_datetime(text)
    except ValueError:
        moment = None
    if moment is None:
        raise NotATime(f"{text!r} is not an ISO 8601 date and time.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def replay(
    endpoint_id: uuid.UUID, *, after_position: int | None = None, since: datetime | None = None
) -> int:
    """Send the endpoint every event it wants after ``after_position`` (or committed since
    ``since``) again, in order: messages it had are due again with their ids; messages of events
    it never had (from before it existed, or while it was disabled) are written, for the events
    the fan-out has already passed (it writes the others itself, in order). How many are due."""
    if (after_position is None) == (since is None):
        raise ReplayNeedsOneStart()
    found = endpoint(endpoint_id)
    events = StoredEvent.objects.filter(position__isnull=False).order_by("position")
    if after_position is not None:
        events = events.filter(position__gt=after_position)
    if since is not None:
        events = events.filter(occurred_at__gte=since)
    passed = _fan_out_positions()
    now = clock.now()
    scheduled = 0
    with transaction.atomic():
        scheduled += OutboundMessage.objects.filter(
            endpoint=found, event_id__in=events.values("event_id")
        ).update(**_due_again(now))
        known = set(
            OutboundMessage.objects.filter(
                endpoint=found, event_id__in=events.values("event_id")
            ).values_list("event_id", flat=True)
        )
        batch: list[OutboundMessage] = []
        for event in events.iterator(chunk_size=REPLAY_BATCH):
            if event.event_id in known or not _passed(event, passed):
                continue
            batch += messages_for(event.envelope(), [found])
            if len(batch) >= REPLAY_BATCH:
                scheduled += _insert(batch)
                batch = []
        scheduled += _insert(batch)
    return scheduled


def _insert(messages: list[OutboundMessage]) -> int:
    # A message the fan-out wrote meanwhile stays as it is.
    OutboundMessage.objects.bulk_create(messages, ignore_conflicts=True)
    return len(messages)


def _fan_out_positions() -> dict[int, int]:
    """How far the fan-out has read, per segment."""
    return dict(
        SubscriptionCheckpoint.objects.filter(subscription=FanOutHandler.handler_name).values_list(  # type: ignore[attr-defined]
            "segment", "position"
        )
    )


def _passed(event: StoredEvent, passed: dict[int, int]) -> bool:
    return (event.position or 0) <= passed.get(segment_of(event.bucket), 0)
