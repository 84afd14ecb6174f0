from __future__ import annotations

from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from apps.events.api.v1.fields import StoredMetadataField, StoredPayloadField
from apps.events.models import ParkedEvent, StoredEvent
from shared.strict import StrictCharField


class StoredEventOutputSerializer(serializers.ModelSerializer):
    payload = StoredPayloadField()
    metadata = StoredMetadataField()

    class Meta:
        model = StoredEvent
        fields = (
            "position",
            "sequence",
            "event_id",
            "event_type",
            "aggregate_type",
            "aggregate_id",
            "version",
            "payload",
            "metadata",
            "idempotency_key",
            "occurred_at",
        )


class EventStreamFilterSerializer(serializers.Serializer):
    event_type = StrictCharField(max_length=100, required=False)
    aggregate_id = serializers.UUIDField(required=False)
    aggregate_type = StrictCharField(max_length=50, required=False)
    after = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="A position from `next_after`: only events committed after it are listed.",
    )


# v1 changes only by adding: a field renamed or replaced stays, marked deprecated in the schema.
@extend_schema_serializer(deprecate_fields=["has_more"])
class EventStreamPageSerializer(serializers.Serializer):
    next = serializers.URLField(
        allow_null=True, help_text="The next page, or null when this page reached the end."
    )
    previous = serializers.URLField(
        allow_null=True, help_text="Always null: the stream is read forwards."
    )
    next_after = serializers.IntegerField(
        help_text="The position to store and to ask for next (`after=`), also at the end."
    )
    results = StoredEventOutputSerializer(many=True)
    has_more = serializers.BooleanField(
        help_text="Deprecated: whether a next page exists; read `next` (null at the end)."
    )


class DeadLetterOutputSerializer(serializers.ModelSerializer):
    """An event a subscription gave up on (``dead``), or one an operator's retry resolved."""

    handler = serializers.CharField(source="subscription", help_text="The subscription's name.")
    event_type = serializers.CharField(source="event.event_type")
    event_id = serializers.UUIDField(source="event.event_id")
    event_sequence = serializers.IntegerField(source="event.sequence")
    event_position = serializers.IntegerField(source="position")
    aggregate_id = serializers.UUIDField(source="event.aggregate_id")
    partition_key = serializers.UUIDField()
    succeeded_at = serializers.DateTimeField(
        source="resolved_at", allow_null=True, help_text="When an operator's retry succeeded."
    )

    class Meta:
        model = ParkedEvent
        fields = (
            "id",
            "handler",
            "status",
            "attempts",
            "event_type",
            "event_id",
            "event_sequence",
            "event_position",
            "aggregate_id",
            "partition_key",
            "last_error",
            "last_traceback",
            "created_at",
            "updated_at",
            "dead_at",
            "succeeded_at",
        )


class DeadLetterFilterSerializer(serializers.Serializer):
    handler = StrictCharField(max_length=200, required=False, help_text="A subscription's name.")
    event_type = StrictCharField(max_length=100, required=False)


class RetryOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=["succeeded", "dead", "skipped"])
    delivery = DeadLetterOutputSerializer(help_text="The dead letter after the retry.")


class SubscriptionSegmentSerializer(serializers.Serializer):
    subscription = serializers.CharField()
    segment = serializers.IntegerField()
    position = serializers.IntegerField(help_text="The last log position it handled.")
    behind = serializers.IntegerField(help_text="Events of its types in its segment after it.")
    oldest_behind_seconds = serializers.FloatField(
        allow_null=True, help_text="Age of the oldest of them (null when none)."
    )
    parked = serializers.IntegerField(help_text="Events waiting for a retry.")
    dead = serializers.IntegerField(help_text="Events given up on (dead letters).")
    updated_at = serializers.DateTimeField(allow_null=True)


class SubscriptionsSerializer(serializers.Serializer):
    head = serializers.IntegerField(help_text="The log's last committed position.")
    segments = SubscriptionSegmentSerializer(many=True)
