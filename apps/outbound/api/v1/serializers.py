from __future__ import annotations

from rest_framework import serializers

from apps.outbound.models import DeliveryAttempt, MessageStatus, OutboundMessage, WebhookEndpoint
from shared.strict import (
    StrictBooleanField,
    StrictCharField,
    StrictInputSerializer,
    StrictIntegerField,
)
from shared.text import PrintableTextField


class WebhookEndpointSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookEndpoint
        fields: tuple[str, ...] = (
            "id",
            "url",
            "description",
            "event_types",
            "enabled",
            "disabled_reason",
            "disabled_at",
            "failing_since",
            "previous_secret_expires_at",
            "start_position",
            "created_at",
            "updated_at",
        )
        extra_kwargs = {
            "event_types": {"help_text": "Public event names (`order.paid`); empty: every event."},
            "disabled_reason": {"help_text": "Why the service disabled it (failing too long)."},
            "start_position": {
                "help_text": "Events at or below this log position are sent only when replayed."
            },
        }


class WebhookEndpointWithSecretSerializer(WebhookEndpointSerializer):
    secret = serializers.CharField(
        help_text="The `whsec_` signing secret: shown now and never again (rotate for a new one)."
    )

    class Meta(WebhookEndpointSerializer.Meta):
        fields: tuple[str, ...] = (*WebhookEndpointSerializer.Meta.fields, "secret")


class EndpointInputSerializer(StrictInputSerializer):
    # A string here; whether it is a URL the service may call is a business rule (422).
    url = StrictCharField(max_length=2000, help_text="http or https; public addresses only.")
    description = PrintableTextField(max_length=500, required=False, allow_blank=True, default="")
    event_types = serializers.ListField(
        child=StrictCharField(max_length=100),
        required=False,
        default=list,
        max_length=100,
        help_text="Public event names (`order.paid`); empty or missing: every event.",
    )
    enabled = StrictBooleanField(required=False, default=True)


class EndpointChangeInputSerializer(StrictInputSerializer):
    url = StrictCharField(max_length=2000, required=False)
    description = PrintableTextField(max_length=500, required=False, allow_blank=True)
    event_types = serializers.ListField(
        child=StrictCharField(max_length=100), required=False, max_length=100
    )
    enabled = StrictBooleanField(required=False)


class RotateSecretInputSerializer(StrictInputSerializer):
    overlap_seconds = StrictIntegerField(
        min_value=0,
        max_value=30 * 86400,
        required=False,
        help_text="How long the previous secret keeps signing beside the new one "
        "(default OMS_OUTBOUND_SECRET_OVERLAP_SECONDS).",
    )


class ReplayInputSerializer(StrictInputSerializer):
    after_position = StrictIntegerField(
        min_value=0,
        max_value=2**63 - 1,
        required=False,
        help_text="Resend the events committed after this position.",
    )
    since = StrictCharField(
        max_length=64,
        required=False,
        help_text="Or: resend the events committed since this time (ISO 8601; UTC if no offset).",
    )


class ReplayOutcomeSerializer(serializers.Serializer):
    scheduled = serializers.IntegerField(help_text="Messages due now, in order.")


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = DeliveryAttempt
        fields = (
            "number",
            "requested_at",
            "url",
            "request_headers",
            "request_body",
            "response_status",
            "response_headers",
            "response_body",
            "duration_ms",
            "error",
        )


class OutboundMessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundMessage
        fields: tuple[str, ...] = (
            "id",
            "webhook_id",
            "event_id",
            "event_type",
            "order_id",
            "position",
            "sequence",
            "status",
            "attempts",
            "next_attempt_at",
            "last_status",
            "last_error",
            "delivered_at",
            "created_at",
        )


class OutboundMessageDetailSerializer(OutboundMessageSerializer):
    body = serializers.CharField()
    delivery_attempts = DeliveryAttemptSerializer(many=True)

    class Meta(OutboundMessageSerializer.Meta):
        fields: tuple[str, ...] = (
            *OutboundMessageSerializer.Meta.fields,
            "body",
            "delivery_attempts",
        )


class MessageFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=MessageStatus.choices, required=False)
    order_id = serializers.UUIDField(required=False)
