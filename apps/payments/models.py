"""The payment aggregate's write model, and its ledger of refunds.

Rows change only through :class:`apps.payments.services.PaymentService`, which consults the
payment state machine, bumps ``version`` and appends the matching event in the same transaction.
One payment per order is enforced by the database, so a handler that runs twice can never create
a second one. Refunds are many per payment; what they may add up to is kept on the payment
(``amount_refunded`` + ``amount_refund_pending`` never exceed ``amount``), checked under the
order's and the payment's row locks.
"""

from __future__ import annotations

import enum
import uuid
from decimal import Decimal

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
    # Refunds that succeeded, and refunds asked for whose outcome the provider has not told yet.
    amount_refunded = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    amount_refund_pending = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="payment_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(amount_refunded__gte=0, amount_refund_pending__gte=0),
                name="payment_refunds_not_negative",
            ),
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

    @property
    def refundable(self) -> Decimal:
        """What may still be asked back: captured, less refunded and refunds under way."""
        if self.status != PaymentStatus.SUCCEEDED:
            return Decimal(0)
        return self.amount - self.amount_refunded - self.amount_refund_pending


class RefundStatus(enum.StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


class Refund(models.Model):
    """Money asked back for a payment: an amount, or lines with quantities (``lines``), and
    what the provider answered. A payment has any number of refunds."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    payment = models.ForeignKey(Payment, on_delete=models.PROTECT, related_name="refunds")
    order_id = models.UUIDField()
    amount = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=10, choices=[(s.value, s.value) for s in RefundStatus])
    # [{"sku": ..., "quantity": n, "amount": "..."}] when lines were refunded; [] for an amount.
    lines = models.JSONField(default=list, blank=True)
    # NULL until the provider has the refund (a refund it made on its own arrives with one).
    provider_reference = models.CharField(max_length=100, unique=True, null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True, default="")
    failure_reason = models.CharField(max_length=500, blank=True, default="")
    created_at = models.DateTimeField()
    settled_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("created_at", "id")
        constraints = [
            # Not negative rather than positive: a refund of a free order, written before refunds
            # were a ledger, gave back 0. The service refuses to ask for less than a minor unit.
            models.CheckConstraint(condition=Q(amount__gte=0), name="refund_amount_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in RefundStatus]),
                name="refund_status_known",
            ),
        ]
        indexes = [
            models.Index(fields=("order_id", "created_at"), name="refund_order_idx"),
            # Reconciliation's query: refunds still waiting for the provider.
            models.Index(
                fields=("created_at",),
                condition=Q(status="requested"),
                name="refund_requested_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"refund {self.provider_reference} of payment {self.payment_id}"
