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

MONEY_DIGITS = 19
MONEY_PLACES = 4


class Order(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    state = models.CharField(max_length=12, choices=[(s.value, s.value) for s in OrderState])
    currency = models.CharField(max_length=3)
    total = models.DecimalField(max_digits=MONEY_DIGITS, decimal_places=MONEY_PLACES)
    payment_method = models.CharField(max_length=32)
    shipping_method = models.CharField(max_length=32)
    version = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ("-created_at", "-id")
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_not_negative"),
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
        ordering = ("order", "position")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="item_quantity_positive"),
            models.CheckConstraint(
                condition=Q(unit_price__gte=0), name="item_unit_price_not_negative"
            ),
            models.UniqueConstraint(fields=("order", "position"), name="item_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"
