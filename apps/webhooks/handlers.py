"""The simulated provider and carrier, registered as event handlers (by event name).

Registered only when the simulator is on at start-up, so a production process subscribes no
handler to these events; each handler checks the switch again when it runs.
"""

from __future__ import annotations

from django.conf import settings

from apps.events.base import EventEnvelope
from apps.events.decorators import event_handler
from apps.webhooks import simulator


class SimulatedPaymentAnswer:
    """The payment provider answers a submitted payment (approved, declined, wallet approval)."""

    def handle(self, event: EventEnvelope) -> None:
        simulator.answer_payment(event)


class SimulatedCarrier:
    """The carrier collects the requested parcel and delivers it."""

    def handle(self, event: EventEnvelope) -> None:
        simulator.carry_parcel(event)


class SimulatedRefundAnswer:
    """The payment provider gives a refund's money back, or refuses to."""

    def handle(self, event: EventEnvelope) -> None:
        simulator.answer_refund(event)


if settings.OMS_SIMULATOR_ENABLED:
    event_handler("PaymentSubmitted", name="webhooks.simulator.answer_payment")(
        SimulatedPaymentAnswer
    )
    event_handler("ShipmentRequested", name="webhooks.simulator.carry_parcel")(SimulatedCarrier)
    event_handler("RefundRequested", name="webhooks.simulator.answer_refund")(SimulatedRefundAnswer)
