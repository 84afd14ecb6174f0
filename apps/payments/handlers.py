"""How payments react to order events.

Both handlers are safe to run twice (at-least-once delivery): the second run finds the payment the
first one created or settled, and the database refuses a second payment or a second refund even
when two runs race. They take no shortcut through whoever runs them, so they behave the same
when a Celery worker runs them, in whatever order the deliveries arrive.
"""

from __future__ import annotations

from apps.events.base import EventEnvelope
from apps.events.decorators import event_handler
from apps.orders.commands import Actor
from apps.orders.events import OrderCancelled, OrderCreated
from apps.payments.commands import ReleaseCancelledOrderPayment, RequestPayment
from apps.payments.services import PaymentService


@event_handler(OrderCreated, name="payments.request_payment")
class PaymentRequestHandler:
    """A new order gets its payment request (PaymentRequested)."""

    def handle(self, event: EventEnvelope) -> None:
        PaymentService().request_payment(
            RequestPayment(order_id=event.aggregate_id, actor=Actor.system())
        )


@event_handler(OrderCancelled, name="payments.release_cancelled_order_payment")
class CancelledOrderPaymentHandler:
    """A cancelled order's payment is refunded if it succeeded, voided if it was still open."""

    def handle(self, event: EventEnvelope) -> None:
        PaymentService().release_for_cancelled_order(
            ReleaseCancelledOrderPayment(
                order_id=event.aggregate_id,
                actor=Actor.system(),
                reason=str(event.payload.get("reason", "")),
            )
        )
