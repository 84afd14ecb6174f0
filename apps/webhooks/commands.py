"""What each provider message does: it becomes calls to the payment and shipping services.

The adapter adds no business rule of its own beyond reading a carrier's report for what it
implies: a parcel that was delivered was shipped first, and a parcel the carrier has was
requested from it. Everything else (refunding money that arrives for a cancelled order, refusing
an opposite payment result) is decided by the services.

:func:`is_stale` tells a message that came too late (the order or payment has already passed the
step it reports, or can no longer take it) from one that may still apply later: the first is
acknowledged and ignored, the second fails so that the provider sends it again.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from apps.orders.commands import Actor
from apps.orders.repositories import lock_order
from apps.orders.state_machine import OrderState, is_terminal
from apps.payments.errors import (
    InvalidPaymentTransition,
    PaymentNotFound,
    PaymentResultConflict,
)
from apps.payments.models import Payment
from apps.payments.services import PaymentService
from apps.payments.state_machine import AWAITING_PROVIDER, PaymentStatus
from apps.shipping.errors import InvalidShipmentTransition
from apps.shipping.services import ShippingService
from apps.shipping.state_machine import ShipmentStatus
from apps.webhooks import messages as m
from apps.webhooks.errors import WebhookAmountMismatch
from shared.exceptions import DomainError, InvalidStateTransition
from shared.money import Money


@dataclass(frozen=True)
class CommandContext:
    """Who acts (the provider, as the system) and the key its events carry."""

    idempotency_key: str
    actor: Actor = field(default_factory=Actor.system)


Command = Callable[[dict[str, Any], CommandContext], None]

payments = PaymentService()
shipping = ShippingService()


# --- payment provider ---------------------------------------------------------------------------


def payment_succeeded(data: dict[str, Any], context: CommandContext) -> None:
    reference = data["provider_reference"]
    payment = Payment.objects.filter(provider_reference=reference).first()
    if payment is None:
        raise PaymentNotFound(
            f"No payment has the provider reference {reference!r}.", provider_reference=reference
        )
    expected = Money.of(payment.amount, payment.currency)
    reported: Money = data["money"]
    if reported != expected:
        raise WebhookAmountMismatch(
            f"The provider reports {reported}; payment {payment.id} is for {expected}.",
            expected_amount=str(expected.amount),
            expected_currency=expected.currency,
        )
    payments.record_result(
        provider_reference=reference,
        succeeded=True,
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


def payment_failed(data: dict[str, Any], context: CommandContext) -> None:
    payments.record_result(
        provider_reference=data["provider_reference"],
        succeeded=False,
        reason=data["reason"],
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


def payment_refunded(data: dict[str, Any], context: CommandContext) -> None:
    reference = data["provider_reference"]
    payments.record_refund(
        provider_reference=reference,
        # One refund per payment, so a reference derived from the payment's is unique too.
        refund_reference=data.get("refund_reference") or f"refund:{reference}"[:100],
        reason=data.get("reason", ""),
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


def payment_authorized(data: dict[str, Any], context: CommandContext) -> None:
    payments.authorize(
        provider_reference=data["provider_reference"],
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


# --- carrier ------------------------------------------------------------------------------------


def shipment_shipped(data: dict[str, Any], context: CommandContext) -> None:
    order_id: uuid.UUID = data["order_id"]
    with transaction.atomic():
        state = lock_order(order_id).state
        _request_shipment_if_paid(order_id, state, context)
        _record_shipped(order_id, data, context)


def shipment_delivered(data: dict[str, Any], context: CommandContext) -> None:
    """Delivered, and shipped first if that report has not arrived (both in this transaction)."""
    order_id: uuid.UUID = data["order_id"]
    with transaction.atomic():
        state = lock_order(order_id).state
        _request_shipment_if_paid(order_id, state, context)
        if state in (OrderState.PAID, OrderState.PROCESSING):
            _record_shipped(order_id, data, context)
        shipping.record_delivered(
            order_id=order_id, actor=context.actor, idempotency_key=context.idempotency_key
        )


def _request_shipment_if_paid(order_id: uuid.UUID, state: str, context: CommandContext) -> None:
    # The carrier holds the parcel, so its shipment was requested, even if our reaction to the
    # payment (the handler that requests it) has not run yet. Requesting is idempotent.
    if state == OrderState.PAID:
        shipping.create_shipment(
            order_id=order_id, actor=context.actor, idempotency_key=context.idempotency_key
        )


def _record_shipped(order_id: uuid.UUID, data: dict[str, Any], context: CommandContext) -> None:
    shipping.record_shipped(
        order_id=order_id,
        carrier=data["carrier"],
        tracking_number=data["tracking_number"],
        actor=context.actor,
        idempotency_key=context.idempotency_key,
    )


COMMANDS: dict[str, Command] = {
    m.PAYMENT_SUCCEEDED: payment_succeeded,
    m.PAYMENT_FAILED: payment_failed,
    m.PAYMENT_REFUNDED: payment_refunded,
    m.PAYMENT_AUTHORIZED: payment_authorized,
    m.SHIPMENT_SHIPPED: shipment_shipped,
    m.SHIPMENT_DELIVERED: shipment_delivered,
}


# --- too late, or too early ---------------------------------------------------------------------

# The forward path of an order; the terminal states CANCELLED and FAILED are off it.
ORDER_PROGRESS = (
    OrderState.PENDING,
    OrderState.PAID,
    OrderState.PROCESSING,
    OrderState.SHIPPED,
    OrderState.DELIVERED,
)
# Payment statuses in which a report may still apply once the reports before it have arrived.
PAYMENT_NOT_SETTLED = frozenset({PaymentStatus.REQUESTED, *AWAITING_PROVIDER})


def is_stale(error: DomainError) -> bool:
    """Whether ``error`` says the message came too late (never: too early, or plain wrong)."""
    if isinstance(error, PaymentResultConflict):
        return True  # the payment was settled the other way; the first answer stands
    if isinstance(error, InvalidStateTransition):
        current, target = OrderState(error.current_state), OrderState(error.target_state)
        if is_terminal(current):
            return True
        return target in ORDER_PROGRESS and ORDER_PROGRESS.index(current) >= ORDER_PROGRESS.index(
            target
        )
    if isinstance(error, InvalidPaymentTransition):
        return PaymentStatus(error.current_status) not in PAYMENT_NOT_SETTLED
    if isinstance(error, InvalidShipmentTransition):
        return error.extra.get("current_status") != ShipmentStatus.REQUESTED
    return False
