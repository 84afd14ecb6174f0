"""Orders found stuck past a deadline, and what was tried to move them on."""

from __future__ import annotations

from django.db import models
from django.db.models import Q


class StuckReason(models.TextChoices):
    PAYMENT_UNANSWERED = "payment_unanswered", "PENDING with a submitted payment, no answer"
    NOT_SHIPPED = "not_shipped", "PAID without a shipment requested"
    NOT_PICKED_UP = "not_picked_up", "PROCESSING, the carrier has not collected the parcel"
    MONEY_NOT_RETURNED = "money_not_returned", "CANCELLED or FAILED, money not all given back"


class StuckOrder(models.Model):
    """An order that stayed in a state past its deadline. ``resolved_at`` is set once it moved
    on (by the recovery job or by anything else); until then it is listed for staff."""

    order_id = models.UUIDField(primary_key=True)
    reason = models.CharField(max_length=20, choices=StuckReason.choices)
    state = models.CharField(max_length=12)
    # When the order entered the state it is stuck in.
    since = models.DateTimeField()
    noticed_at = models.DateTimeField()
    attempts = models.PositiveIntegerField(default=0)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_outcome = models.TextField(blank=True, default="")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("since", "order_id")
        indexes = [
            models.Index(
                fields=("since", "order_id"),
                condition=Q(resolved_at__isnull=True),
                name="stuck_order_open_idx",
            )
        ]

    def __str__(self) -> str:
        return f"order {self.order_id} stuck: {self.reason}"
