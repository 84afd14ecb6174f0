"""The fan-out: one message per enabled endpoint that wants an event, written as the event is
read from the log.

A subscription to every event type: it reads the log in commit order, one order's events in the
order they committed, from its checkpoint, so nothing committed is missed and a crash re-reads
rather than loses. Each message's body is fixed here (a retry sends the very same bytes) and its
``webhook_id`` is derived from the endpoint and the event, so a second run of this handler on the
same event writes nothing new (the unique ``(endpoint, event)`` refuses it).
"""

from __future__ import annotations

import json
import uuid

from apps.events.base import EventEnvelope, payload_in_one_form
from apps.events.decorators import ALL_EVENTS, event_handler
from apps.events.models import StoredEvent
from apps.outbound.models import OutboundMessage, WebhookEndpoint
from apps.outbound.names import public_name
from shared import clock
from shared.timestamps import utc_text

_WEBHOOK_IDS = uuid.UUID("6f1c1f0e-4f0b-4d55-9a57-0d7b0c3e2a41")


def webhook_id_of(endpoint_id: uuid.UUID, event_id: uuid.UUID) -> str:
    """Stable per (endpoint, event): every retry, redelivery and replay carries it."""
    return "msg_" + uuid.uuid5(_WEBHOOK_IDS, f"{endpoint_id}:{event_id}").hex


def sequence_of(event: EventEnvelope) -> int:
    """The event's number among its order's events, in commit order (1, 2, …)."""
    return StoredEvent.objects.filter(
        partition_key=event.partition_key, position__lte=event.position
    ).count()


def body_of(event: EventEnvelope, sequence: int) -> str:
    return json.dumps(
        {
            "type": public_name(event.event_type),
            "timestamp": utc_text(event.occurred_at),
            "data": {
                "event_id": str(event.event_id),
                "order_id": str(event.partition_key),
                "sequence": sequence,
                "position": event.position,
                "aggregate_type": event.aggregate_type,
                "aggregate_id": str(event.aggregate_id),
                # Moments in the API's one form, whatever form the stored payload has.
                "payload": payload_in_one_form(event.event_type, event.payload),
            },
        },
        separators=(",", ":"),
    )


def wants(endpoint: WebhookEndpoint, name: str) -> bool:
    return not endpoint.event_types or name in endpoint.event_types


def messages_for(event: EventEnvelope, endpoints: list[WebhookEndpoint]) -> list[OutboundMessage]:
    name = public_name(event.event_type)
    chosen = [e for e in endpoints if wants(e, name)]
    if not chosen:
        return []
    sequence = sequence_of(event)
    body = body_of(event, sequence)
    moment = clock.now()
    return [
        OutboundMessage(
            endpoint=endpoint,
            event_id=event.event_id,
            event_type=name,
            order_id=event.partition_key,
            position=event.position or 0,
            sequence=sequence,
            webhook_id=webhook_id_of(endpoint.id, event.event_id),
            body=body,
            next_attempt_at=moment,
            created_at=moment,
        )
        for endpoint in chosen
    ]


@event_handler(ALL_EVENTS, name="outbound.fan_out")
class FanOutHandler:
    def handle(self, event: EventEnvelope) -> None:
        endpoints = list(
            WebhookEndpoint.objects.filter(enabled=True, start_position__lt=event.position or 0)
        )
        OutboundMessage.objects.bulk_create(messages_for(event, endpoints), ignore_conflicts=True)
