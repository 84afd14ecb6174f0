"""What each provider message does: it becomes calls to the payment and shipping services.

The adapter adds no business rule of its own: one service method per message type. What a
report implies (a parcel that was delivered was shipped first, a parcel the carrier has was
requested from it, a reported amount must be the payment's, money that arrives for a cancelled
order goes back) is decided by the services.

:func:`is_stale` tells a message that came too late (the order or payment has already passed the
step it reports, or can no longer take it) from one that may still apply later: the first is
acknowledged and ignored, the second fails so that the provider sends it again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from apps.orders import lifecycle
from apps.orders.commands import Actor
from apps.payments.commands import (
    AuthorizePayment,
    RecordPaymentResult,
    RecordRefund,
    RecordRefundResult,
)
from apps.payments.errors import (
    InvalidPaymentTransition,
    PaymentResultConflict,
    RefundResultConflict,
)
from apps.payments.services import PaymentService
from apps.payments.state_machine import AWAITING_PROVIDER, PaymentStatus
from apps.shipping.commands import CarrierReport
from apps.shipping.errors import InvalidShipmentTransition
from apps.shipping.services import ShippingService
from apps.shipping.state_machine import ShipmentStatus
from apps.webhooks import messages as m
from shared.exceptions import DomainError, InvalidStateTransition


@dataclass(frozen=True)
class MessageContext:
    """Who acts (the provider, as the system) and the key its events carry."""

    idempotency_key: str
    actor: Actor = field(default_factory=Actor.system)


Action = Callable[[dict[str, Any], MessageContext], None]

payments = PaymentService()
shipping = ShippingService()


# --- payment provider ---------------------------------------------------------------------------


def payment_succeeded(data: dict[str, Any], context: MessageContext) -> None:
    payments.record_result(
        RecordPaymentResult(
            provider_reference=data["provider_reference"],
            succeeded=True,
            reported=data["money"],
            actor=context.actor,
            idempotency_key=context.idempotency_key,
        )
    )


def payment_failed(data: dict[str, Any], context: MessageContext) -> None:
    payments.record_result(
        RecordPaymentResult(
            provider_reference=data["provider_reference"],
            succeeded=False,
            reason=data["reason"],
            actor=context.actor,
            idempotency_key=context.idempotency_key,
        )
    )


def payment_refunded(data: dict[str, Any], context: MessageContext) -> None:
    reference = data["provider_reference"]
    payments.record_refund(
        RecordRefund(
            provider_reference=reference,
            # One refund per payment, so a reference derived from the payment's is unique too.
            refund_reference=data.get("refund_reference") or f"refund:{reference}"[:100],
            reason=data.get("reason", ""),
            actor=context.actor,
            idempotency_key=context.idempotency_key,
        )
    )


def refund_succeeded(data: dict[str, Any], context: MessageContext) -> None:
    _refund_result(data, context, succeeded=True)


def refund_failed(data: dict[str, Any], context: MessageContext) -> None:
    _refund_result(data, context, succeeded=False)


def _refund_result(data: dict[str, Any], context: MessageContext, *, succeeded: bool) -> None:
    payments.record_refund_result(
        RecordRefundResult(
            provider_reference=data["provider_reference"],
            refund_reference=data["refund_reference"],
            succeeded=succeeded,
            reason=data.get("reason", ""),
            reported=data.get("money"),
            actor=context.actor,
            idempotency_key=context.idempotency_key,
        )
    )


def payment_authorized(data: dict[str, Any], context: MessageContext) -> None:
    payments.authorize(
        AuthorizePayment(
            provider_reference=data["provider_reference"],
            actor=context.actor,
            idempotency_key=context.idempotency_key,
        )
    )


# --- carrier ------------------------------------------------------------------------------------


def shipment_shipped(data: dict[str, Any], context: MessageContext) -> None:
    shipping.record_carrier_shipped(_carrier_report(data, context))


def shipment_delivered(data: dict[str, Any], context: MessageContext) -> None:
    shipping.record_carrier_delivered(_carrier_report(data, context))


def _carrier_report(data: dict[str, Any], context: MessageContext) -> CarrierReport:
    return CarrierReport(
        order_id=data["order_id"],
        carrier=data["carrier"],
        tracking_number=data["tracking_number"],
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


ACTIONS: dict[str, Action] = {
    m.PAYMENT_SUCCEEDED: payment_succeeded,
    m.PAYMENT_FAILED: payment_failed,
    m.PAYMENT_REFUNDED: payment_refunded,
    m.PAYMENT_AUTHORIZED: payment_authorized,
    m.REFUND_SUCCEEDED: refund_succeeded,
    m.REFUND_FAILED: refund_failed,
    m.SHIPMENT_SHIPPED: shipment_shipped,
    m.SHIPMENT_DELIVERED: shipment_delivered,
}


# --- too late, or too early ---------------------------------------------------------------------

# Payment statuses in which a report may still apply once the reports before it have arrived.
PAYMENT_NOT_SETTLED = frozenset({PaymentStatus.REQUESTED, *AWAITING_PROVIDER})


def is_stale(error: DomainError) -> bool:
    """Whether ``error`` says the message came too late (never: too early, or plain wrong)."""
    if isinstance(error, PaymentResultConflict | RefundResultConflict):
        return True  # settled the other way; the first answer stands
    if isinstance(error, InvalidStateTransition):
        return lifecycle.came_too_late(error)
    if isinstance(error, InvalidPaymentTransition):
        return PaymentStatus(error.current_status) not in PAYMENT_NOT_SETTLED
    if isinstance(error, InvalidShipmentTransition):
        return error.extra.get("current_status") != ShipmentStatus.REQUESTED
    return False
