"""Input serializers of the shipping endpoints, and the shape of the order's shipment section.
No business rule lives here."""

from __future__ import annotations

from rest_framework import serializers

from apps.idempotency.keys import IdempotencyKeyField
from apps.shipping.state_machine import ShipmentStatus
from shared.strict import StrictInputSerializer
from shared.text import PrintableIdentifierField


class ShipOrderInputSerializer(StrictInputSerializer):
    tracking_number = PrintableIdentifierField(
        max_length=64,
        required=False,
        help_text="The carrier's tracking number, if the parcel already has one; otherwise the "
        "carrier client books the pickup and issues it.",
    )
    carrier = PrintableIdentifierField(
        max_length=64,
        required=False,
        help_text="Optional; must be the shipment's carrier, which the shipping method chose.",
    )
    idempotency_key = IdempotencyKeyField(required=False)


class DeliverOrderInputSerializer(StrictInputSerializer):
    idempotency_key = IdempotencyKeyField(required=False)


class ShipmentSectionOutputSerializer(serializers.Serializer):
    """The order's ``shipment`` section (``apps.shipping.sections.section_of`` writes it; this
    declares it for the schema)."""

    id = serializers.UUIDField()
    carrier = serializers.CharField()
    service_level = serializers.CharField(help_text="The shipping method: standard or express.")
    status = serializers.ChoiceField(choices=[status.value for status in ShipmentStatus])
    rate = serializers.CharField(help_text="The shipping charged, in the order's currency.")
    currency = serializers.CharField()
    tracking_number = serializers.CharField(
        allow_null=True, help_text="The carrier's; null until it issues one."
    )
    estimated_delivery = serializers.DateField()
    shipped_at = serializers.DateTimeField(allow_null=True)
    delivered_at = serializers.DateTimeField(allow_null=True)
