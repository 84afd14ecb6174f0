"""Input serializers of the shipping endpoints. No business rule lives here."""

from __future__ import annotations

from rest_framework import serializers


class ShipOrderInputSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(
        max_length=64,
        required=False,
        help_text="The carrier's tracking number, if the parcel already has one; otherwise the "
        "carrier client books the pickup and issues it.",
    )
    carrier = serializers.CharField(
        max_length=64,
        required=False,
        help_text="Optional; must be the shipment's carrier, which the shipping method chose.",
    )
    idempotency_key = serializers.CharField(max_length=255, required=False)


class DeliverOrderInputSerializer(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=255, required=False)
