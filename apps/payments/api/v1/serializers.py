"""Input and output serializers of the payment endpoints. No business rule lives here."""

from __future__ import annotations

from rest_framework import serializers

from apps.idempotency.keys import IdempotencyKeyField
from apps.payments.models import Payment
from shared.money import format_amount
from shared.strict import StrictInputSerializer


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
