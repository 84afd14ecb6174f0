"""Input and output serializers of the v1 order API. No business rule lives here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models.manager import BaseManager
from drf_spectacular.utils import OpenApiExample, extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from apps.events.base import known_aggregate_types
from apps.idempotency.keys import IdempotencyKeyField
from apps.orders import sections
from apps.orders.models import Order, OrderItem
from apps.orders.sections import Section
from apps.orders.services import MAX_ITEMS_PER_ORDER, MAX_QUANTITY_PER_ITEM
from apps.orders.state_machine import OrderState, allowed_transitions
from shared.money import CURRENCY_MINOR_UNITS, format_amount
from shared.strict import AmountField, StrictCharField, StrictInputSerializer, StrictIntegerField


class OrderLineInputSerializer(StrictInputSerializer):
    sku = StrictCharField(max_length=64)
    name = StrictCharField(max_length=200)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY_PER_ITEM)
    unit_price = AmountField()


@extend_schema_serializer(
    examples=[
        OpenApiExample(
            "Two lines, paid by card, standard shipping",
            value={
                "currency": "EUR",
                "payment_method": "card",
                "shipping_method": "standard",
                "items": [
                    {"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"},
                    {"sku": "PEN-1", "name": "A pen", "quantity": 1, "unit_price": "1.99"},
                ],
            },
            request_only=True,
        )
    ]
)
class CreateOrderInputSerializer(StrictInputSerializer):
    currency = serializers.ChoiceField(choices=sorted(CURRENCY_MINOR_UNITS))
    items = serializers.ListField(
        child=OrderLineInputSerializer(),
        allow_empty=False,
        min_length=1,
        max_length=MAX_ITEMS_PER_ORDER,
    )
    payment_method = serializers.ChoiceField(
        choices=list(settings.OMS_PAYMENT_METHODS), default="card"
    )
    shipping_method = serializers.ChoiceField(
        choices=list(settings.OMS_SHIPPING_METHODS), default="standard"
    )
    idempotency_key = IdempotencyKeyField(required=False)


class CancelOrderInputSerializer(StrictInputSerializer):
    reason = StrictCharField(max_length=500, required=False, allow_blank=True, default="")
    idempotency_key = IdempotencyKeyField(required=False)


class EmptyInputSerializer(StrictInputSerializer):
    idempotency_key = IdempotencyKeyField(required=False)


class OrderItemOutputSerializer(serializers.ModelSerializer):
    unit_price = serializers.SerializerMethodField()
    line_total = serializers.SerializerMethodField()

    class Meta:
        model = OrderItem
        fields = ("sku", "name", "quantity", "unit_price", "line_total")

    def get_unit_price(self, item: OrderItem) -> str:
        return format_amount(item.unit_price, item.order.currency)

    def get_line_total(self, item: OrderItem) -> str:
        return format_amount(item.unit_price * item.quantity, item.order.currency)


# Where the sections of the orders being rendered are kept, in the root serializer's context.
SECTIONS_CONTEXT_KEY = "order_sections"
# A section other apps fill through ``apps.orders.sections``; null when nothing is there yet.
SUMMARY_SCHEMA: dict[str, Any] = {"type": "object", "nullable": True, "additionalProperties": True}
REFUNDS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "description": "Money asked back, oldest first (see POST /api/v1/orders/{id}/refunds/).",
    "items": {"type": "object", "additionalProperties": True},
}


class OrderListOutputSerializer(serializers.ListSerializer):
    """Fetches the sections of the whole page at once: one query per provider, not per order."""

    def to_representation(self, data: Any) -> list[Any]:
        orders = list(data.all() if isinstance(data, BaseManager) else data)
        self._context[SECTIONS_CONTEXT_KEY] = sections.sections_for(o.id for o in orders)
        return super().to_representation(orders)


class OrderOutputSerializer(serializers.ModelSerializer):
    customer_id = serializers.IntegerField()
    subtotal = serializers.SerializerMethodField(help_text="What the items cost.")
    shipping_total = serializers.SerializerMethodField(
        help_text="The shipping charged, quoted and fixed when the order was created."
    )
    total = serializers.SerializerMethodField(
        help_text="subtotal + shipping_total: what the payment captures."
    )
    refunded_total = serializers.SerializerMethodField(
        help_text="Money given back so far (refunds that succeeded)."
    )
    items = OrderItemOutputSerializer(many=True)
    allowed_transitions = serializers.SerializerMethodField()
    payment = serializers.SerializerMethodField()
    shipment = serializers.SerializerMethodField()
    refunds = serializers.SerializerMethodField()

    class Meta:
        model = Order
        list_serializer_class = OrderListOutputSerializer
        fields = (
            "id",
            "customer_id",
            "state",
            "currency",
            "subtotal",
            "shipping_total",
            "total",
            "refunded_total",
            "payment_method",
            "shipping_method",
            "items",
            "version",
            "allowed_transitions",
            "payment",
            "shipment",
            "refunds",
            "created_at",
            "updated_at",
        )

    def get_subtotal(self, order: Order) -> str:
        return format_amount(order.subtotal, order.currency)

    def get_shipping_total(self, order: Order) -> str:
        return format_amount(order.shipping_total, order.currency)

    def get_total(self, order: Order) -> str:
        return format_amount(order.total, order.currency)

    def get_refunded_total(self, order: Order) -> str:
        payment = self._section("payment", order)
        refunded = payment.get("refunded_amount") if payment else None
        return str(refunded) if refunded else format_amount(Decimal(0), order.currency)

    def get_allowed_transitions(self, order: Order) -> list[str]:
        return sorted(allowed_transitions(order.state))

    @extend_schema_field(SUMMARY_SCHEMA)
    def get_payment(self, order: Order) -> dict[str, Any] | None:
        return self._section("payment", order)

    @extend_schema_field(SUMMARY_SCHEMA)
    def get_shipment(self, order: Order) -> dict[str, Any] | None:
        return self._section("shipment", order)

    @extend_schema_field(REFUNDS_SCHEMA)
    def get_refunds(self, order: Order) -> list[Any]:
        found = self._section("refunds", order)
        return list(found["rows"]) if found else []

    def _section(self, section: str, order: Order) -> dict[str, Any] | None:
        context = self.root._context
        if SECTIONS_CONTEXT_KEY not in context:
            # A single order rendered on its own: the sections it carries from its own query,
            # or else fetched once for both sections.
            context[SECTIONS_CONTEXT_KEY] = sections.carried_by(order) or sections.sections_for(
                [order.id]
            )
        found = context[SECTIONS_CONTEXT_KEY].get(section, {}).get(order.id)
        return dict(found) if found is not None else None


class EventOutputSerializer(serializers.Serializer):
    position = serializers.IntegerField(
        allow_null=True, help_text="Where the event stands in the global commit-ordered log."
    )
    sequence = serializers.IntegerField()
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()
    aggregate_id = serializers.UUIDField()
    aggregate_type = serializers.CharField()
    version = serializers.IntegerField()
    payload = serializers.JSONField()
    metadata = serializers.JSONField()
    idempotency_key = serializers.CharField(allow_null=True)
    occurred_at = serializers.DateTimeField()


class TimelineFilterSerializer(serializers.Serializer):
    aggregate_type = serializers.ChoiceField(
        choices=[],
        required=False,
        help_text="Only the events of this aggregate (the order, its payment or its shipment).",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Read when used, not at import: every app has declared its event classes by then.
        field = self.fields["aggregate_type"]
        assert isinstance(field, serializers.ChoiceField)
        field.choices = sorted(known_aggregate_types())


class HistoryEntryOutputSerializer(serializers.Serializer):
    from_state = serializers.CharField(allow_null=True)
    to_state = serializers.CharField()
    at = serializers.DateTimeField()
    actor = serializers.JSONField(help_text="user id of who made the change; null for the system")
    reason = serializers.CharField(allow_blank=True)
    event_id = serializers.UUIDField()
    event_type = serializers.CharField()


# Datetimes exactly as the serializers' DateTimeField writes them (UTC as "Z").
_DATETIME = serializers.DateTimeField()


def order_payload(
    order: Order, known: dict[str, Mapping[uuid.UUID, Section]] | None = None
) -> dict[str, Any]:
    """One order's representation, as ``OrderOutputSerializer`` (the schema) declares it.

    Written out by hand: building a ``ModelSerializer``'s fields anew for every response costs
    more than the rest of an order's detail. ``test_order_representation.py`` renders orders in
    every state both ways and requires the same JSON. ``known``: the other apps' sections of
    the order when in hand; else those it carries from its query, or else they are fetched.
    """
    filled = known
    if filled is None:
        filled = sections.carried_by(order) or sections.sections_for([order.id])
    currency = order.currency

    def section(name: str) -> dict[str, Any] | None:
        found = filled.get(name, {}).get(order.id)
        return dict(found) if found is not None else None

    payment, refunds = section("payment"), section("refunds")
    refunded = payment.get("refunded_amount") if payment else None
    return {
        "id": str(order.id),
        "customer_id": order.customer_id,
        "state": OrderState(order.state).value,
        "currency": currency,
        "subtotal": format_amount(order.subtotal, currency),
        "shipping_total": format_amount(order.shipping_total, currency),
        "total": format_amount(order.total, currency),
        "refunded_total": str(refunded) if refunded else format_amount(Decimal(0), currency),
        "payment_method": order.payment_method,
        "shipping_method": order.shipping_method,
        "items": [
            {
                "sku": item.sku,
                "name": item.name,
                "quantity": item.quantity,
                "unit_price": format_amount(item.unit_price, currency),
                "line_total": format_amount(item.unit_price * item.quantity, currency),
            }
            for item in order.items.all()
        ],
        "version": order.version,
        "allowed_transitions": sorted(state.value for state in allowed_transitions(order.state)),
        "payment": payment,
        "shipment": section("shipment"),
        "refunds": list(refunds["rows"]) if refunds else [],
        "created_at": _DATETIME.to_representation(order.created_at),
        "updated_at": _DATETIME.to_representation(order.updated_at),
    }
