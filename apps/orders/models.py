"""The order aggregate's write model.

Rows change only through :class:`apps.orders.services.OrderService`, which consults the state
machine, bumps ``version`` and appends the matching events in the same transaction.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from apps.orders.state_machine import OrderState
from shared.models import VersionedRow
from shared.money import MONEY_DIGITS, MONEY_PLACES


class Order(VersionedRow):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    state = models.CharField(max_length=12, choices=[(s.value, s.value) for s in OrderState])
    currency = models.CharField(max_length=3)
    # What the lines cost, the shipping charged (quoted and fixed at creation), and their sum:
    # what the payment captures.
    subtotal = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    shipping_total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    payment_method = models.CharField(max_length=32)
    shipping_method = models.CharField(max_length=32)

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=Q(subtotal__gte=0, shipping_total__gte=0),
                name="order_parts_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(state__in=[s.value for s in OrderState]), name="order_state_known"
            ),
        ]
        indexes = [
            # Cursor pagination of a customer's orders and of all orders, newest first.
            models.Index(
                fields=("customer", "-created_at", "-id"), name="order_customer_created_idx"
            ),
            models.Index(fields=("-created_at", "-id"), name="order_created_idx"),
            models.Index(fields=("state", "-created_at"), name="order_state_created_idx"),
        ]

    def __str__(self) -> str:
        return f"order {self.id} ({self.state})"


class OrderItem(models.Model):
    id = models.BigAutoField(primary_key=True)
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)

    class Meta:
        ordering = (
            "order_id",
            "position",
        )  # by the column: "order" would join orders for its ordering
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="item_unit_price_not_negative"
            ),
            models.UniqueConstraint(fields=("order", "position"), name="item_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"


# --- Read side: projections fed by events (see apps/orders/projections.py) ---------------------


class OrderSummary(models.Model):
    """One row per order, what list endpoints and statistics read. Rebuilt from the log at will.

    ``order_version``, ``payment_version`` and ``shipment_version`` are the versions of the last
    event applied from each aggregate; an event at or below them is a replay and changes nothing.
    """

    order_id = models.UUIDField(primary_key=True)
    customer_id = models.BigIntegerField()
    state = models.CharField(max_length=12)
    currency = models.CharField(max_length=3)
    subtotal = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    shipping_total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    # Money given back so far (refunds that succeeded), from the payment's refund events.
    refunded_total = models.DecimalField(
        max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES, default=0
    )
    item_count = models.PositiveIntegerField()
    line_count = models.PositiveIntegerField()
    payment_method = models.CharField(max_length=32)
    shipping_method = models.CharField(max_length=32)
    payment_status = models.CharField(max_length=20, blank=True, default="")
    shipment_status = models.CharField(max_length=20, blank=True, default="")
    carrier = models.CharField(max_length=64, blank=True, default="")
    tracking_number = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    processing_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    # Durations kept as milliseconds so that mean and percentiles are plain column aggregates.
    ms_to_payment = models.BigIntegerField(null=True, blank=True)
    ms_payment_to_delivery = models.BigIntegerField(null=True, blank=True)
    order_version = models.PositiveIntegerField(default=0)
    payment_version = models.PositiveIntegerField(default=0)
    shipment_version = models.PositiveIntegerField(default=0)
    last_sequence = models.BigIntegerField(default=0)

    class Meta:
        ordering = ("-created_at", "-order_id")
        indexes = [
            models.Index(
                fields=("customer_id", "-created_at", "-order_id"), name="summary_customer_idx"
            ),
            models.Index(
                fields=("customer_id", "state", "-created_at", "-order_id"),
                name="summary_customer_state_idx",
            ),
            models.Index(fields=("-created_at", "-order_id"), name="summary_created_idx"),
            models.Index(fields=("state", "-created_at", "-order_id"), name="summary_state_idx"),
            models.Index(fields=("ms_to_payment",), name="summary_ms_to_payment_idx"),
            models.Index(fields=("ms_payment_to_delivery",), name="summary_ms_to_delivery_idx"),
        ]

    def __str__(self) -> str:
        return f"summary of order {self.order_id} ({self.state})"


class OrderStateChange(models.Model):
    """One row per state change of an order (the history endpoint's read model)."""

    event_id = models.UUIDField(primary_key=True)
    order_id = models.UUIDField()
    sequence = models.BigIntegerField()
    event_type = models.CharField(max_length=100)
    from_state = models.CharField(max_length=12, null=True, blank=True)  # noqa: DJ001 (creation)
    to_state = models.CharField(max_length=12)
    at = models.DateTimeField()
    actor = models.JSONField(null=True, blank=True)
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ("order_id", "sequence")
        indexes = [models.Index(fields=("order_id", "sequence"), name="state_change_order_idx")]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_state} → {self.to_state}"


class DailyRevenue(models.Model):
    """Paid order totals per payment day and currency, in stripes.

    Every payment adds to one stripe of its day (chosen by the order's id), in one upsert inside
    the payment's transaction. A single row per day would be locked by every payment until its
    transaction commits, so concurrent payments would queue behind each other; with stripes two
    payments contend only when their orders fall in the same stripe. Readers sum the stripes.
    """

    STRIPES = 32

    day = models.DateField()
    currency = models.CharField(max_length=3)
    stripe = models.PositiveSmallIntegerField(default=0)
    paid_orders = models.PositiveIntegerField(default=0)
    amount = models.DecimalField(max_digits=MONEY_DIGITS + 4, decimal_places=MONEY_PLACES)

    class Meta:
        ordering = ("day", "currency", "stripe")
        constraints = [
            models.UniqueConstraint(
                fields=("day", "currency", "stripe"), name="daily_revenue_unique_stripe"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.amount} {self.currency}"
