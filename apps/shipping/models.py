"""The shipment aggregate's write model: one shipment per order, enforced by the database."""

from __future__ import annotations

import uuid

from django.db import models
from django.db.models import Q

from apps.shipping.state_machine import ShipmentStatus
from shared.models import VersionedRow
from shared.money import MONEY_DIGITS, MONEY_PLACES


class Shipment(VersionedRow):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    order_id = models.UUIDField(unique=True)
    carrier = models.CharField(max_length=64)
    service_level = models.CharField(max_length=32)
    rate = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    currency = models.CharField(max_length=3)
    # NULL until the carrier issues one; NULL, not "", so that uniqueness per carrier holds.
    tracking_number = models.CharField(max_length=64, null=True, blank=True)  # noqa: DJ001
    status = models.CharField(max_length=10, choices=[(s.value, s.value) for s in ShipmentStatus])
    estimated_delivery = models.DateField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(rate__gte=0), name="shipment_rate_not_negative"),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ShipmentStatus]),
                name="shipment_status_known",
            ),
            models.UniqueConstraint(
                fields=("carrier", "tracking_number"), name="shipment_unique_tracking_number"
            ),
        ]

    def __str__(self) -> str:
        return f"shipment {self.id} of order {self.order_id} ({self.status})"
