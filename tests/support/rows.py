"""What a refused request must not have written: one count per table that an order, a payment,
a shipment, a refund, an outbound endpoint or an idempotent answer lives in."""

from __future__ import annotations

from apps.events.models import StoredEvent
from apps.idempotency.models import IdempotencyRecord
from apps.orders.models import Order, OrderItem
from apps.outbound.models import WebhookEndpoint
from apps.payments.models import Payment, Refund
from apps.shipping.models import Shipment


def rows_written() -> tuple[int, ...]:
    """Counts to compare before and after a request that must change nothing."""
    return tuple(
        model.objects.count()
        for model in (
            Order,
            OrderItem,
            StoredEvent,
            IdempotencyRecord,
            Payment,
            Refund,
            Shipment,
            WebhookEndpoint,
        )
    )
