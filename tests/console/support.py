"""What the console tests build: orders in several states, a dead letter, webhooks received."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent, bucket_of
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.webhooks.models import WebhookLog, WebhookOutcome
from shared import clock

STATES = tuple(OrderState)  # every state, terminal ones included


def orders_in_every_state(customer: Any, rounds: int = 1) -> list[Order]:
    return [move_to(create_order(customer), state) for _ in range(rounds) for state in STATES]


def dead_letter(order: Order, subscription: str = "payments.request_payment") -> ParkedEvent:
    """The order's creation, given up on by ``subscription`` after every retry (the database
    was away, say); its handler succeeds when an operator retries it."""
    event = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderCreated")
    moment = clock.now()
    return ParkedEvent.objects.create(
        subscription=subscription,
        event=event,
        bucket=bucket_of(event.partition_key),
        partition_key=event.partition_key,
        position=event.position or event.sequence,
        status=ParkedStatus.DEAD,
        attempts=4,
        next_attempt_at=moment + timedelta(hours=1),
        last_error="OperationalError: the database system is shutting down",
        last_traceback="Traceback (most recent call last):\n  ...\nOperationalError",
        created_at=moment,
        updated_at=moment,
        dead_at=moment,
    )


def webhook_received(order: Order, outcome: str = WebhookOutcome.PROCESSED) -> WebhookLog:
    return WebhookLog.objects.create(
        provider="payment",
        webhook_id=f"msg_{uuid.uuid4().hex}",
        message_type="payment.succeeded",
        headers={},
        body="{}",
        signature_valid=True,
        outcome=outcome,
        order_id=order.id,
        received_at=clock.now(),
    )
