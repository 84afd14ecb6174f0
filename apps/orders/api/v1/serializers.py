"""Input and output serializers of the v1 order API. No business rule lives here."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models.manager import BaseManager
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_array_type
from drf_spectacular.utils import OpenApiExample, extend_schema_serializer
from rest_framework import serializers

from apps.events.api.v1.fields import StoredMetadataField, StoredPayloadField
from apps.events.base import known_aggregate_types
from apps.idempotency.keys import IdempotencyKeyField
from apps.orders import actions, sections
from apps.orders.actions import OrderAtHand
from apps.orders.commands import Actor
from apps.orders.models import Order, OrderItem
from apps.orders.sections import Section
from apps.orders.services import MAX_ITEMS_PER_ORDER, MAX_QUANTITY_PER_ITEM
from apps.orders.state_machine import OrderState, allowed_transitions
from shared.money import CURRENCY_MINOR_UNITS, format_amount
from shared.strict import AmountField, StrictInputSerializer, StrictIntegerField
from shared.text import PrintableIdentifierField, PrintableTextField
from shared.timestamps import utc_text


class OrderLineInputSerializer(StrictInputSerializer):
    sku = PrintableIdentifierField(max_length=64)
    name = PrintableTextField(max_length=200)
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
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True, default="")
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
# Who the orders are rendered for (an ``Actor``), in the root serializer's context: the
# ``allowed_actions`` shown are that caller's (none when it is absent).
VIEWER_CONTEXT_KEY = "viewer"

ALLOWED_TRANSITIONS_HELP = (
    "The states the state machine lets the order move to next, whoever moves it: most are "
    "reached by the payment provider, the carrier or staff. For what the caller may do, read "
    "`allowed_actions`."
)
ALLOWED_ACTIONS_HELP = (
    "The commands the caller may issue on the order now, each `POST "
    "/api/v1/orders/{id}/<action>/`: `pay`, `cancel`, `process`, `ship`, `deliver`, `refund` "
    "(more may be added). Exactly those the API accepts from this caller in this state: `pay` "
    "while the order awaits payment and its payment is not with the provider yet; `refund` "
    "for staff while the payment captured money not refunded nor being refunded; `process`, "
    "`ship` and `deliver` for staff."
)


class OrderSectionField(serializers.SerializerMethodField):
    """A section other apps fill through ``apps.orders.sections``. The schema types it with the
    serializer its provider declares: a nullable object, or an array of ``many`` entries."""

    def __init__(self, section: str, *, many: bool = False, **kwargs: Any) -> None:
        self.section = section
        self.many = many
        super().__init__(**kwargs)


class OrderSectionFieldSchema(OpenApiSerializerFieldExtension):
    """Asked when the schema is generated, once every app has registered its section."""

    target_class = OrderSectionField

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        field = self.target
        declared = sections.schema_of(field.section)
        shape: dict[str, Any] = {"type": "object", "additionalProperties": True}
        if declared is not None:
            shape = auto_schema.resolve_serializer(declared, direction).ref
        return build_array_type(shape) if field.many else shape


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
    allowed_transitions = serializers.SerializerMethodField(help_text=ALLOWED_TRANSITIONS_HELP)
    allowed_actions = serializers.SerializerMethodField(help_text=ALLOWED_ACTIONS_HELP)
    payment = OrderSectionField(
        "payment", allow_null=True, help_text="The order's payment; null until one is requested."
    )
    shipment = OrderSectionField(
        "shipment",
        allow_null=True,
        help_text="The order's shipment; null until one is requested (after payment).",
    )
    refunds = OrderSectionField(
        "refunds",
        many=True,
        help_text="Money asked back, oldest first (see POST /api/v1/orders/{id}/refunds/).",
    )

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
            "allowed_actions",
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

    def get_allowed_actions(self, order: Order) -> list[str]:
        at_hand = OrderAtHand(
            state=order.state,
            sections={name: self._section(name, order) for name in sections.registered_names()},
        )
        return actions.allowed_actions(at_hand, self.root._context.get(VIEWER_CONTEXT_KEY))

    def get_payment(self, order: Order) -> dict[str, Any] | None:
        return self._section("payment", order)

    def get_shipment(self, order: Order) -> dict[str, Any] | None:
        return self._section("shipment", order)

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
    payload = StoredPayloadField()
    metadata = StoredMetadataField()
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


def order_payload(
    order: Order,
    known: dict[str, Mapping[uuid.UUID, Section]] | None = None,
    *,
    viewer: Actor | None = None,
) -> dict[str, Any]:
    """One order's representation, as ``OrderOutputSerializer`` (the schema) declares it.

    Written out by hand: building a ``ModelSerializer``'s fields anew for every response costs
    more than the rest of an order's detail. ``test_order_representation.py`` renders orders in
    every state both ways and requires the same JSON. ``known``: the other apps' sections of
    the order when in hand; else those it carries from its query, or else they are fetched.
    ``viewer``: who it is shown to, whose ``allowed_actions`` it lists (none without one).
    """
    filled = known
    if filled is None:
        filled = sections.carried_by(order) or sections.sections_for([order.id])
    currency = order.currency

    def section(name: str) -> dict[str, Any] | None:
        found = filled.get(name, {}).get(order.id)
        return dict(found) if found is not None else None

    in_hand = {name: section(name) for name in filled}
    payment, refunds = in_hand.get("payment"), in_hand.get("refunds")
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
        "allowed_actions": actions.allowed_actions(OrderAtHand(order.state, in_hand), viewer),
        "payment": payment,
        "shipment": in_hand.get("shipment"),
        "refunds": list(refunds["rows"]) if refunds else [],
        "created_at": utc_text(order.created_at),
        "updated_at": utc_text(order.updated_at),
    }
