"""Input and output serializers of the payment endpoints. No business rule lives here."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import PolymorphicProxySerializer
from rest_framework import serializers

from apps.idempotency.keys import IdempotencyKeyField
from apps.orders.services import MAX_QUANTITY_PER_ITEM
from apps.payments.models import Payment, RefundStatus
from apps.payments.state_machine import PaymentStatus
from shared.money import format_amount
from shared.strict import AmountField, StrictInputSerializer, StrictIntegerField
from shared.text import PrintableIdentifierField, PrintableTextField


class PayOrderInputSerializer(StrictInputSerializer):
    idempotency_key = IdempotencyKeyField(required=False)


class PaymentOutputSerializer(serializers.ModelSerializer):
    payment_id = serializers.UUIDField(source="id")
    amount = serializers.SerializerMethodField()
    approval_url = serializers.SerializerMethodField(
        help_text="wallet: where to send the customer to approve the payment"
    )
    instructions = serializers.JSONField(
        help_text="bank transfer: IBAN, BIC, beneficiary, reference and amount to transfer"
    )
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="bank transfer: when the order fails if no money arrived"
    )

    class Meta:
        model = Payment
        fields = (
            "payment_id",
            "order_id",
            "method",
            "status",
            "amount",
            "currency",
            "provider_reference",
            "approval_url",
            "instructions",
            "expires_at",
            "failure_reason",
            "version",
            "created_at",
            "updated_at",
        )

    def get_amount(self, payment: Payment) -> str:
        return format_amount(payment.amount, payment.currency)

    def get_approval_url(self, payment: Payment) -> str | None:
        return payment.approval_url or None


class RefundLineInputSerializer(StrictInputSerializer):
    sku = PrintableIdentifierField(max_length=64)
    quantity = StrictIntegerField(min_value=1, max_value=MAX_QUANTITY_PER_ITEM)


class RefundInputSerializer(StrictInputSerializer):
    """Exactly one of ``amount`` and ``lines``."""

    amount = AmountField(
        required=False,
        help_text="The amount to give back, in the order's currency (at most its decimals).",
    )
    lines = serializers.ListField(
        child=RefundLineInputSerializer(),
        required=False,
        min_length=1,
        max_length=100,
        help_text="Lines to give back, by sku, priced as they were sold.",
    )
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True, default="")
    idempotency_key = IdempotencyKeyField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("amount" in attrs) == ("lines" in attrs):
            raise serializers.ValidationError("Give either an amount or lines to refund.")
        return attrs


class RefundByAmountInputSerializer(StrictInputSerializer):
    """The schema's view of a refund of an amount (one of the two bodies)."""

    amount = AmountField(help_text="The amount to give back, in the order's currency.")
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True)
    idempotency_key = IdempotencyKeyField(required=False)


class RefundByLinesInputSerializer(StrictInputSerializer):
    """The schema's view of a refund of lines (one of the two bodies)."""

    lines = serializers.ListField(
        child=RefundLineInputSerializer(),
        min_length=1,
        max_length=100,
        help_text="Lines to give back, by sku, priced as they were sold.",
    )
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True)
    idempotency_key = IdempotencyKeyField(required=False)


REFUND_REQUEST = PolymorphicProxySerializer(
    component_name="RefundRequest",
    serializers=[RefundByAmountInputSerializer, RefundByLinesInputSerializer],
    resource_type_field_name=None,
)


class RefundLineOutputSerializer(serializers.Serializer):
    sku = serializers.CharField()
    quantity = serializers.IntegerField()
    amount = serializers.CharField()


class RefundOutputSerializer(serializers.Serializer):
    """A refund as the order shows it (``refunds``)."""

    id = serializers.UUIDField()
    amount = serializers.CharField()
    currency = serializers.CharField()
    status = serializers.ChoiceField(
        choices=[s.value for s in RefundStatus],
        help_text="requested: the provider has not answered yet; succeeded; failed.",
    )
    lines = RefundLineOutputSerializer(many=True)
    reason = serializers.CharField(allow_blank=True)
    failure_reason = serializers.CharField(allow_blank=True)
    provider_reference = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)


# The payment's statuses as the schema's enum (named once in settings, as it appears twice).
PAYMENT_STATUS_CHOICES = [(status.value, status.value) for status in PaymentStatus]


class PaymentSectionOutputSerializer(serializers.Serializer):
    """The order's ``payment`` section (``apps.payments.sections.section_of`` writes it; this
    declares it for the schema)."""

    id = serializers.UUIDField()
    method = serializers.CharField(help_text="card, wallet or bank_transfer")
    status = serializers.ChoiceField(choices=PAYMENT_STATUS_CHOICES)
    amount = serializers.CharField(help_text="What the payment captures: the order's total.")
    currency = serializers.CharField()
    provider_reference = serializers.CharField(
        allow_null=True, help_text="The provider's reference; null until it has the payment."
    )
    approval_url = serializers.CharField(
        allow_null=True, help_text="wallet: where the customer approves the payment"
    )
    expires_at = serializers.DateTimeField(
        allow_null=True, help_text="bank transfer: when the order fails if no money arrived"
    )
    failure_reason = serializers.CharField(allow_blank=True)
    refunded_amount = serializers.CharField(help_text="Refunds that succeeded.")
    refund_pending_amount = serializers.CharField(
        help_text="Refunds asked for that the provider has not answered yet."
    )
    updated_at = serializers.DateTimeField()
