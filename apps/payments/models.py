"""The payment aggregate's write model, and the refunds given back.

Rows change only through :class:`apps.payments.services.PaymentService`, which consults the
payment state machine, bumps ``version`` and appends the matching event in the same transaction.
One payment per order and one refund per payment are enforced by the database, so a handler that
runs twice can never create a second of either.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from apps.payments.state_machine import PaymentStatus
from shared.models import VersionedRow
from shared.money import MONEY_DIGITS, MONEY_PLACES


class Payment(VersionedRow):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(unique=True)
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=32)
    status = models.CharField(max_length=12, choices=[(s.value, s.value) for s in PaymentStatus])
    # NULL until the provider knows the payment; NULL, not "", so that uniqueness holds.
    provider_reference = models.CharField(max_length=100, unique=True, null=True, blank=True)
    failure_reason = models.CharField(max_length=500, blank=True, default="")
    # Wallet: where the customer approves the payment.
    approval_url = models.URLField(max_length=500, blank=True, default="")
    # Bank transfer: where and how to send the money.
    instructions = models.JSONField(null=True, blank=True)
    # Bank transfer: when the order fails if no money has arrived.
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in PaymentStatus]),
                name="payment_status_known",
            ),
        ]
        indexes = [
            # The expiry sweep: submitted payments whose deadline has passed.
            models.Index(fields=("status", "expires_at"), name="payment_status_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"payment {self.id} of order {self.order_id} ({self.status})"


class Refund(models.Model):
    """Money given back for a payment. One per payment: a second refund cannot be written."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.OneToOneField(Payment, on_delete=models.PROTECT, related_name="refund")
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3)
    provider_reference = models.CharField(max_length=100, unique=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
        ]

    def __str__(self) -> str:
        return f"refund {self.provider_reference} of payment {self.payment_id}"
