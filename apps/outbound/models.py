"""Outbound webhooks: the endpoints merchants register, one message per (endpoint, event), and
the log of every attempt to deliver one.

A message is written once, when the fan-out subscription reads its event, with the body it will
always carry and a ``webhook_id`` derived from the endpoint and the event: every retry,
redelivery and replay of it carries the same id, so a consumer deduplicates on it.
"""

from __future__ import annotations

import uuid

from django.db import models


class WebhookEndpoint(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=500, blank=True, default="")
    # Public event names (``order.paid``); empty: every event.
    event_types = models.JSONField(default=list, blank=True)
    enabled = models.BooleanField(default=True)
    # Why it was disabled by the service (failing for too long), for staff to read.
    disabled_reason = models.TextField(blank=True, default="")
    disabled_at = models.DateTimeField(null=True, blank=True)
    # Since when every attempt failed (None while it answers); disabled once this is too old.
    failing_since = models.DateTimeField(null=True, blank=True)
    # The last failed attempt: a failure long after it starts a new streak (no attempt in
    # between is no evidence of failing all along).
    last_failure_at = models.DateTimeField(null=True, blank=True)
    # ``whsec_`` secrets: messages are signed with the current one and, until it expires, the
    # previous one too, so a consumer can switch without missing a message.
    secret = models.CharField(max_length=200)
    previous_secret = models.CharField(max_length=200, blank=True, default="")
    previous_secret_expires_at = models.DateTimeField(null=True, blank=True)
    # Events at or below this log position (the head when it was registered) are not sent
    # unless replayed.
    start_position = models.BigIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("created_at",)

    def __str__(self) -> str:
        return self.url


class MessageStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed (given up)"


class OutboundMessage(models.Model):
    endpoint = models.ForeignKey(WebhookEndpoint, on_delete=models.CASCADE, related_name="messages")
    event_id = models.UUIDField()
    event_type = models.CharField(max_length=100)  # the public name, ``order.paid``
    # The order the event is about (the log's partition key) and its place in the log: messages
    # of one order go to one endpoint in this order.
    order_id = models.UUIDField()
    position = models.BigIntegerField()
    sequence = models.PositiveIntegerField()  # the event's number among its order's events
    webhook_id = models.CharField(max_length=64, unique=True)
    body = models.TextField()
    status = models.CharField(
        max_length=16, choices=MessageStatus.choices, default=MessageStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    # ``attempts`` when staff last redelivered or replayed it: the retry schedule starts over.
    schedule_start = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    # A sender's claim: set while it posts, so that no other sender posts the same message.
    claim = models.CharField(max_length=32, blank=True, default="")
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True, default="")
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("position",)
        constraints = [
            models.UniqueConstraint(
                fields=("endpoint", "event_id"), name="outbound_one_message_per_endpoint_event"
            )
        ]
        indexes = [
            models.Index(
                fields=("endpoint", "order_id", "position"), name="outbound_order_queue_idx"
            ),
            models.Index(fields=("status", "next_attempt_at"), name="outbound_due_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.webhook_id} {self.event_type} → {self.endpoint_id}"


class DeliveryAttempt(models.Model):
    """One POST of a message: what was sent, what came back (bounded), how long it took."""

    message = models.ForeignKey(
        OutboundMessage, on_delete=models.CASCADE, related_name="delivery_attempts"
    )
    number = models.PositiveIntegerField()
    requested_at = models.DateTimeField(db_index=True)
    url = models.URLField(max_length=2000)
    request_headers = models.JSONField()
    request_body = models.TextField()
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_headers = models.JSONField(default=dict)
    response_body = models.TextField(blank=True, default="")
    duration_ms = models.FloatField()
    error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("requested_at", "id")

    def __str__(self) -> str:
        return f"attempt {self.number} of {self.message_id}: {self.response_status or self.error}"
