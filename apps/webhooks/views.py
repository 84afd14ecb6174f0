"""``POST /api/v1/webhooks/payment/`` and ``POST /api/v1/webhooks/shipping/``.

No user authentication and no CSRF: the Standard Webhooks signature is the authentication. The
view hands the raw body and the headers to :func:`apps.webhooks.receiver.receive` and turns its
receipt into the answer. The body is never read through DRF's parsers: the signature covers the
bytes as sent, and the receiver parses them by the API's rules once the signature holds.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.core.exceptions import RequestDataTooBig
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.webhooks.errors import WebhookBodyTooLarge
from apps.webhooks.messages import types_of
from apps.webhooks.models import Provider, WebhookOutcome
from apps.webhooks.receiver import new_entry, observe, receive, reject
from apps.webhooks.verification import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from shared.openapi import PROBLEM
from shared.throttling import WebhookRateThrottle

SIGNATURE_HEADERS = [
    OpenApiParameter(
        ID_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description="The message id: the same on every retry of one message (deduplication key).",
    ),
    OpenApiParameter(
        TIMESTAMP_HEADER,
        OpenApiTypes.INT,
        OpenApiParameter.HEADER,
        required=True,
        description="Unix seconds when it was sent; refused if more than 5 minutes off our clock.",
    ),
    OpenApiParameter(
        SIGNATURE_HEADER,
        OpenApiTypes.STR,
        OpenApiParameter.HEADER,
        required=True,
        description=(
            "Space-separated `v1,<base64>` entries: HMAC-SHA256 of `{id}.{timestamp}.{body}` "
            "with the provider's secret (`whsec_<base64>`). One match with any accepted secret."
        ),
    ),
]


class WebhookOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(
        choices=[WebhookOutcome.PROCESSED, WebhookOutcome.DUPLICATE, WebhookOutcome.IGNORED],
        help_text=(
            "processed: applied; duplicate: this webhook id was already handled, nothing done; "
            "ignored: stale (the order already moved past it), acknowledged and not applied."
        ),
    )
    webhook_id = serializers.CharField()
    message_type = serializers.CharField()
    order_id = serializers.UUIDField(allow_null=True)
    detail = serializers.CharField(source="error", help_text="Why a message was ignored.")


def _schema(provider: Provider) -> Any:
    kinds = types_of(provider)
    return extend_schema(
        operation_id=f"webhooks_{provider}",
        summary=f"Receive a signed webhook from the {Provider(provider).label.lower()}",
        description="\n".join(f"* `{kind.name}`: {kind.summary}" for kind in kinds),
        auth=[],
        parameters=SIGNATURE_HEADERS,
        request=PolymorphicProxySerializer(
            component_name=f"{provider.capitalize()}WebhookMessage",
            serializers=[kind.serializer for kind in kinds],
            # Each message's ``type`` is an enum of one value, so ``oneOf`` alone tells them
            # apart; a discriminator would need a mapping drf-spectacular cannot derive here.
            resource_type_field_name=None,
        ),
        examples=[
            OpenApiExample(
                kind.name,
                value={
                    "type": kind.name,
                    "timestamp": "2025-01-31T12:00:00Z",
                    "data": kind.example,
                },
                request_only=True,
            )
            for kind in kinds
        ],
        responses={
            200: WebhookOutcomeSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="`malformed_request`: not strict JSON (duplicate keys, nesting deeper "
                "than the API allows). `validation_error`: not a valid message, such as an amount "
                "that is not a decimal string within the currency's places, free text that is not "
                "printable, or a number where a string belongs (`errors` names the field). Logged "
                "as rejected; nothing applied.",
            ),
            401: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="`webhook_signature_invalid`: missing headers, a stale timestamp or "
                "no matching signature. Logged as rejected; nothing else happens.",
            ),
            404: PROBLEM,
            409: PROBLEM,
            413: PROBLEM,
            415: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="`unsupported_media_type`: the body is not declared as "
                "`application/json` (charset utf-8 or none). Logged as rejected; nothing applied.",
            ),
            422: PROBLEM,
            503: PROBLEM,
        },
    )


class WebhookView(APIView):
    authentication_classes = ()  # the signature is the authentication
    permission_classes = (AllowAny,)
    throttle_classes = (WebhookRateThrottle,)
    provider: ClassVar[Provider]

    def handle_webhook(self, request: Request) -> Response:
        headers = dict(request.headers)
        try:
            body = request.body
        except RequestDataTooBig:
            # Logged without its body, which was never read.
            observe(
                reject(new_entry(self.provider, headers=headers, body=b""), WebhookBodyTooLarge())
            )
            raise WebhookBodyTooLarge() from None
        receipt = observe(receive(self.provider, headers=headers, body=body))
        if receipt.problem is not None:
            raise receipt.problem
        return Response(WebhookOutcomeSerializer(receipt.log).data)


class PaymentWebhookView(WebhookView):
    provider = Provider.PAYMENT

    @_schema(Provider.PAYMENT)
    def post(self, request: Request) -> Response:
        return self.handle_webhook(request)


class ShippingWebhookView(WebhookView):
    provider = Provider.SHIPPING

    @_schema(Provider.SHIPPING)
    def post(self, request: Request) -> Response:
        return self.handle_webhook(request)
