"""Webhooks received (``WebhookLog``), the ones the simulated providers will send, and the
simulated providers' ledgers (what they would answer when asked about a payment or a parcel)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class Provider(models.TextChoices):
    PAYMENT = "payment", "Payment provider"
    SHIPPING = "shipping", "Carrier"


class WebhookOutcome(models.TextChoices):
    PROCESSED = "processed", "Processed"
    DUPLICATE = "duplicate", "Duplicate"
    IGNORED = "ignored", "Ignored (stale)"
    REJECTED = "rejected", "Rejected"
    FAILED = "failed", "Failed"


# The outcomes after which a webhook id is spent: another message with that id is a duplicate.
CLAIMING_OUTCOMES = (WebhookOutcome.PROCESSED, WebhookOutcome.IGNORED)


class WebhookLog(models.Model):
    """One received webhook request, whatever became of it: the audit trail and the dedupe key.

    Every request gets a row, forged ones included. ``(provider, webhook_id)`` is unique only among
    the rows that *claim* the id: ``processed`` and ``ignored`` (a stale message was understood and
    deliberately not applied; its retries must not be applied either). The constraint is partial
    on purpose:

    * ``rejected`` rows do not claim the id. Anyone can send a request with any ``webhook-id``; if a
      forged or malformed message could claim the id, it would block the genuine message that
      carries the same id, which is then answered as a duplicate and never applied.
    * ``failed`` rows do not claim the id either. A message that failed (its order is not known
      yet, a conflict that may clear) is retried by the provider with the same id, and that retry
      must be processed, not absorbed as a duplicate.
    * ``duplicate`` rows record the absorbed copies; there may be many.

    The receiver inserts the ``processed`` row in a savepoint *before* it applies the message, in
    the same transaction. A concurrent twin's insert then waits on the unique index until that
    transaction ends: it sees a duplicate if the first one committed a claiming row, or inserts its
    own if the first one rolled back or ended ``failed``.
    """

    provider = models.CharField(max_length=16, choices=Provider.choices)
    webhook_id = models.CharField(max_length=255, blank=True)
    message_type = models.CharField(max_length=64, blank=True)
    # Request headers as received, without credentials (Authorization, Cookie): the signature
    # headers are kept, they are what an operator needs to see why a message was rejected.
    headers = models.JSONField(default=dict)
    body = models.TextField(blank=True)
    signature_valid = models.BooleanField()
    outcome = models.CharField(max_length=16, choices=WebhookOutcome.choices)
    error = models.TextField(blank=True)
    order_id = models.UUIDField(null=True, blank=True)
    received_at = models.DateTimeField()
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-received_at", "-id")
        constraints = [
            models.UniqueConstraint(
                fields=("provider", "webhook_id"),
                condition=Q(outcome__in=[o.value for o in CLAIMING_OUTCOMES]),
                name="webhook_log_id_claimed_once",
            ),
            models.CheckConstraint(
                condition=Q(outcome__in=[o.value for o in WebhookOutcome]),
                name="webhook_log_outcome_known",
            ),
        ]
        indexes = [
            models.Index(fields=("provider", "webhook_id"), name="webhook_log_id_idx"),
            models.Index(fields=("order_id", "received_at"), name="webhook_log_order_idx"),
            models.Index(fields=("outcome", "received_at"), name="webhook_log_outcome_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} webhook {self.webhook_id or '?'} ({self.outcome})"


class SimulatedWebhook(models.Model):
    """The outbox of the simulated payment provider and carrier: one signed HTTP call to make.

    The simulator's handlers write these rows in the transaction of the event they react to; the
    sender posts the due ones later. ``(webhook_id, copy)`` is unique, so a handler that runs twice
    schedules nothing new; ``copy`` 1 is a deliberate second send of the same message (the
    duplicate a real provider sometimes makes).
    """

    provider = models.CharField(max_length=16, choices=Provider.choices)
    webhook_id = models.CharField(max_length=255)
    copy = models.PositiveSmallIntegerField(default=0)
    message_type = models.CharField(max_length=64)
    # The exact JSON text to post: it is what gets signed.
    body = models.TextField()
    order_id = models.UUIDField(null=True, blank=True)
    send_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The sender that took the row for its current attempt (see simulator.send_due_webhooks).
    claim = models.CharField(max_length=32, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("send_at", "id")
        constraints = [
            models.UniqueConstraint(
                fields=("webhook_id", "copy"), name="simulated_webhook_unique_copy"
            ),
        ]
        indexes = [
            # The sender's query: unsent rows by due time.
            models.Index(
                fields=("send_at",),
                condition=Q(sent_at__isnull=True),
                name="simulated_webhook_due_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"simulated {self.message_type} {self.webhook_id}#{self.copy}"


class LedgerPayment(models.Model):
    """What the simulated payment provider decided about a payment: its ledger, which
    ``fetch_payment`` reads. ``known_from``: when the provider has the outcome (the moment its
    webhook is first due); before that it reports the payment pending."""

    reference = models.CharField(max_length=100, primary_key=True)
    order_id = models.UUIDField(null=True, blank=True)
    method = models.CharField(max_length=32)
    amount = models.DecimalField(max_digits=19, decimal_places=4)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=12)
    reason = models.CharField(max_length=500, blank=True, default="")
    known_from = models.DateTimeField()

    class Meta:
        ordering = ("known_from", "reference")

    def __str__(self) -> str:
        return f"provider ledger: {self.reference} {self.status}"


class LedgerRefund(models.Model):
    """A refund as the simulated payment provider settled it."""

    reference = models.CharField(max_length=100, primary_key=True)
    payment_reference = models.CharField(max_length=100, db_index=True)
    amount = models.DecimalField(max_digits=19, decimal_places=4)
    currency = models.CharField(max_length=3)
    outcome = models.CharField(max_length=12)
    reason = models.CharField(max_length=500, blank=True, default="")
    known_from = models.DateTimeField()

    class Meta:
        ordering = ("known_from", "reference")

    def __str__(self) -> str:
        return f"provider ledger: refund {self.reference} {self.outcome}"


class LedgerParcel(models.Model):
    """A parcel as the simulated carrier handles it: when it is collected and when delivered."""

    shipment_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField()
    carrier = models.CharField(max_length=64)
    tracking_number = models.CharField(max_length=64)
    shipped_from = models.DateTimeField()
    delivered_from = models.DateTimeField()

    class Meta:
        ordering = ("shipped_from", "shipment_id")

    def __str__(self) -> str:
        return f"carrier ledger: {self.carrier} {self.tracking_number}"
