"""The messages providers send: their shape, validation and documentation, by type.

Every body is ``{"type": "<message type>", "timestamp": "<optional ISO 8601>", "data": {...}}``
(the Standard Webhooks payload convention). The type decides the serializer of ``data``; what a
valid message then does is in :mod:`apps.webhooks.actions`.

A provider's message is held to the API's own input rules: the body is read by the same strict
JSON reader (``shared.strict_json``), amounts are decimal strings written with at most the
currency's places (``Money.parse``), free text and identifiers are printable (``shared.text``)
and strings are JSON strings. Unknown fields are allowed: a provider adds fields to its messages
without notice.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from apps.payments.queries import order_paid_by
from apps.webhooks.models import Provider
from shared.exceptions import DomainError
from shared.money import CURRENCY_MINOR_UNITS, Money
from shared.strict import AmountField
from shared.strict_json import read_json, require_json_media_type
from shared.text import PrintableIdentifierField, PrintableTextField

PAYMENT_SUCCEEDED = "payment.succeeded"
PAYMENT_FAILED = "payment.failed"
PAYMENT_REFUNDED = "payment.refunded"
PAYMENT_AUTHORIZED = "payment.authorized"
REFUND_SUCCEEDED = "refund.succeeded"
REFUND_FAILED = "refund.failed"
SHIPMENT_SHIPPED = "shipment.shipped"
SHIPMENT_DELIVERED = "shipment.delivered"


# --- data of each message type ------------------------------------------------------------------


class PaymentReferenceData(serializers.Serializer):
    provider_reference = PrintableIdentifierField(
        max_length=100, help_text="The provider's reference of the payment (from `pay`)."
    )


class AmountData(serializers.Serializer):
    amount = AmountField(
        help_text="The amount as a decimal string, with at most the currency's decimal places "
        '(2 for EUR: "30.40", never "30.400", "3.04e1" or the number 30.4).'
    )
    currency = serializers.ChoiceField(choices=sorted(CURRENCY_MINOR_UNITS))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        try:
            attrs["money"] = Money.parse(attrs["amount"], attrs["currency"])
        except DomainError as exc:
            raise ValidationError({"amount": [exc.detail]}) from exc
        return attrs


class PaymentSucceededData(PaymentReferenceData, AmountData):
    pass


class RefundReferenceData(PaymentReferenceData):
    refund_reference = PrintableIdentifierField(
        max_length=100, help_text="The provider's reference of the refund."
    )


class RefundSucceededData(RefundReferenceData, AmountData):
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True)


class RefundFailedData(RefundReferenceData):
    reason = PrintableTextField(max_length=500, help_text="Why the provider refused it.")


class PaymentFailedData(PaymentReferenceData):
    reason = PrintableTextField(max_length=500, help_text="Why the provider declined it.")


class PaymentRefundedData(PaymentReferenceData):
    refund_reference = PrintableIdentifierField(
        max_length=100, required=False, help_text="The provider's reference of the refund."
    )
    reason = PrintableTextField(max_length=500, required=False, allow_blank=True)


class ShipmentData(serializers.Serializer):
    order_id = serializers.UUIDField()
    carrier = PrintableIdentifierField(max_length=64)
    tracking_number = PrintableIdentifierField(max_length=64)


# --- whole messages (the discriminated union the endpoints accept) -------------------------------


def _message(
    name: str, type_name: str, data: serializers.Serializer
) -> type[serializers.Serializer]:
    fields: dict[str, Any] = {
        "type": serializers.ChoiceField(choices=[type_name]),
        "timestamp": serializers.DateTimeField(
            required=False, help_text="When the provider created the message (informative)."
        ),
        "data": data,
    }
    return type(name, (serializers.Serializer,), fields)


PaymentSucceededMessage = _message(
    "PaymentSucceededMessage", PAYMENT_SUCCEEDED, PaymentSucceededData()
)
PaymentFailedMessage = _message("PaymentFailedMessage", PAYMENT_FAILED, PaymentFailedData())
PaymentRefundedMessage = _message("PaymentRefundedMessage", PAYMENT_REFUNDED, PaymentRefundedData())
PaymentAuthorizedMessage = _message(
    "PaymentAuthorizedMessage", PAYMENT_AUTHORIZED, PaymentReferenceData()
)
RefundSucceededMessage = _message("RefundSucceededMessage", REFUND_SUCCEEDED, RefundSucceededData())
RefundFailedMessage = _message("RefundFailedMessage", REFUND_FAILED, RefundFailedData())
ShipmentShippedMessage = _message("ShipmentShippedMessage", SHIPMENT_SHIPPED, ShipmentData())
ShipmentDeliveredMessage = _message("ShipmentDeliveredMessage", SHIPMENT_DELIVERED, ShipmentData())


@dataclass(frozen=True)
class MessageType:
    name: str
    provider: Provider
    serializer: type[serializers.Serializer]
    summary: str
    example: dict[str, Any]


_EXAMPLE_ORDER = "5b0c1f3e-8a51-4f5e-9a4e-1c7f0b6d2a10"

MESSAGE_TYPES: dict[str, MessageType] = {
    kind.name: kind
    for kind in (
        MessageType(
            PAYMENT_SUCCEEDED,
            Provider.PAYMENT,
            PaymentSucceededMessage,
            "The money was taken: the order becomes PAID (refunded at once if it was cancelled).",
            {
                "provider_reference": "card_3f9c0d5e2b7a41c8a1e4d6f0",
                "amount": "26.99",
                "currency": "EUR",
            },
        ),
        MessageType(
            PAYMENT_FAILED,
            Provider.PAYMENT,
            PaymentFailedMessage,
            "The payment was declined: the order FAILS with the reason.",
            {"provider_reference": "card_3f9c0d5e2b7a41c8a1e4d6f0", "reason": "insufficient funds"},
        ),
        MessageType(
            PAYMENT_REFUNDED,
            Provider.PAYMENT,
            PaymentRefundedMessage,
            "All of the money went back (the refund we asked for under that reference, or what "
            "was left, refunded at the provider).",
            {
                "provider_reference": "card_3f9c0d5e2b7a41c8a1e4d6f0",
                "refund_reference": "refund_8d1e2f3a4b5c6d7e8f9a0b1c",
                "reason": "order cancelled",
            },
        ),
        MessageType(
            PAYMENT_AUTHORIZED,
            Provider.PAYMENT,
            PaymentAuthorizedMessage,
            "Wallet: the customer approved the payment; the money is captured.",
            {"provider_reference": "wallet_7a2b9c4d1e0f4a3b8c6d5e2f"},
        ),
        MessageType(
            REFUND_SUCCEEDED,
            Provider.PAYMENT,
            RefundSucceededMessage,
            "A refund's money went back (one we asked for, or one made at the provider, which "
            "is recorded as such); the payment is REFUNDED once all of it is back.",
            {
                "provider_reference": "card_3f9c0d5e2b7a41c8a1e4d6f0",
                "refund_reference": "refund_8d1e2f3a4b5c6d7e8f9a0b1c",
                "amount": "5.40",
                "currency": "EUR",
            },
        ),
        MessageType(
            REFUND_FAILED,
            Provider.PAYMENT,
            RefundFailedMessage,
            "The provider refused a refund; its amount may be asked back again.",
            {
                "provider_reference": "card_3f9c0d5e2b7a41c8a1e4d6f0",
                "refund_reference": "refund_8d1e2f3a4b5c6d7e8f9a0b1c",
                "reason": "the card account is closed",
            },
        ),
        MessageType(
            SHIPMENT_SHIPPED,
            Provider.SHIPPING,
            ShipmentShippedMessage,
            "The carrier took the parcel: the order becomes SHIPPED.",
            {"order_id": _EXAMPLE_ORDER, "carrier": "DHL", "tracking_number": "DHL5B0C1F3E8A51"},
        ),
        MessageType(
            SHIPMENT_DELIVERED,
            Provider.SHIPPING,
            ShipmentDeliveredMessage,
            "The parcel arrived: the order becomes DELIVERED (and SHIPPED first if that report "
            "has not arrived yet).",
            {"order_id": _EXAMPLE_ORDER, "carrier": "DHL", "tracking_number": "DHL5B0C1F3E8A51"},
        ),
    )
}


def types_of(provider: Provider | str) -> list[MessageType]:
    return [kind for kind in MESSAGE_TYPES.values() if kind.provider == provider]


@dataclass(frozen=True)
class Message:
    """A validated message: its type and its ``data``."""

    kind: MessageType
    data: dict[str, Any]

    def order_id(self) -> uuid.UUID | None:
        """The order the message is about, when it can be told (for the log)."""
        if "order_id" in self.data:
            order_id: uuid.UUID = self.data["order_id"]
            return order_id
        return order_paid_by(self.data["provider_reference"])


class _EnvelopeSerializer(serializers.Serializer):
    type = serializers.CharField(max_length=64)
    data = serializers.DictField()  # type: ignore[assignment]  # the field, not Serializer.data

    def validate_type(self, value: str) -> str:
        provider = self.context["provider"]
        allowed = sorted(kind.name for kind in types_of(provider))
        if value not in allowed:
            raise ValidationError(f"Unknown {provider} message type; expected one of {allowed}.")
        return value


def parse(provider: Provider | str, body: bytes, *, content_type: str | None) -> Message:
    """Read and validate a body as the API reads its own.

    Raises DRF's UnsupportedMediaType (415: not declared ``application/json`` in UTF-8),
    ParseError (400: not strict JSON) or ValidationError (400: not a valid message).
    """
    require_json_media_type(content_type)
    document = read_json(body)
    envelope = _EnvelopeSerializer(data=document, context={"provider": provider})
    envelope.is_valid(raise_exception=True)
    kind = MESSAGE_TYPES[envelope.validated_data["type"]]
    message = kind.serializer(data=document)
    message.is_valid(raise_exception=True)
    return Message(kind=kind, data=message.validated_data["data"])


def message_type_of(body: bytes) -> str:
    """The ``type`` a body claims, for the log of a message that failed validation; else "".

    Read leniently on purpose: the log says what the sender meant, whatever was wrong with it.
    """
    try:
        claimed = json.loads(body.decode("utf-8")).get("type", "")
    except (UnicodeDecodeError, ValueError, RecursionError, AttributeError):
        return ""
    return claimed[:64] if isinstance(claimed, str) else ""
