"""Input serializers of the shipping endpoints. No business rule lives here."""

from __future__ import annotations

from apps.idempotency.keys import IdempotencyKeyField
from shared.strict import StrictCharField, StrictInputSerializer


class ShipOrderInputSerializer(StrictInputSerializer):
    tracking_number = StrictCharField(
        max_length=64,
        required=False,
        help_text="The carrier's tracking number, if the parcel already has one; otherwise the "
        "carrier client books the pickup and issues it.",
    )
    carrier = StrictCharField(
        max_length=64,
        required=False,
        help_text="Optional; must be the shipment's carrier, which the shipping method chose.",
    )
    idempotency_key = IdempotencyKeyField(required=False)


class DeliverOrderInputSerializer(StrictInputSerializer):
    idempotency_key = IdempotencyKeyField(required=False)
