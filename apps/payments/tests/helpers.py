"""Helpers of the payments tests: orders, payments and deliveries through the real code."""

from __future__ import annotations

import uuid
from typing import Any

from apps.events.models import StoredEvent
from apps.events.subscriptions import HandlingOutcome, handle_once
from apps.orders.commands import Actor, CancelOrder
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.orders.tests.factories import create_order
from apps.payments.commands import AuthorizePayment, RecordPaymentResult, SubmitPayment
from apps.payments.models import Payment
from apps.payments.services import PaymentService

payments = PaymentService()
SYSTEM = Actor.system()


def submitted_order(customer: Any, method: str = "card", **extra: Any) -> tuple[Order, Payment]:
    """A PENDING order whose payment the provider has (as after ``POST pay``)."""
    order = create_order(customer, payment_method=method, **extra)
    payment = payments.submit_payment(
        SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk))
    )
    return order, payment


def paid_order(customer: Any, method: str = "card") -> tuple[Order, Payment]:
    order, payment = submitted_order(customer, method)
    assert payment.provider_reference
    if method == "wallet":
        payments.authorize(
            AuthorizePayment(provider_reference=payment.provider_reference, actor=SYSTEM)
        )
    else:
        payments.record_result(
            RecordPaymentResult(
                provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
            )
        )
    return Order.objects.get(id=order.id), Payment.objects.get(id=payment.id)


def cancel(order: Order, reason: str = "changed my mind") -> Order:
    return OrderService().cancel_order(
        CancelOrder(actor=Actor(user_id=order.customer_id), order_id=order.id, reason=reason)
    )


def state_of(order: Order) -> str:
    return Order.objects.get(id=order.id).state


def payment_of(order: Order) -> Payment:
    return Payment.objects.get(order_id=order.id)


def payment_event_types(order: Order) -> list[str]:
    payment = payment_of(order)
    return list(
        StoredEvent.objects.filter(aggregate_id=payment.id)
        .order_by("version")
        .values_list("event_type", flat=True)
    )


def order_event(order: Order, event_type: str) -> StoredEvent:
    return StoredEvent.objects.get(aggregate_id=order.id, event_type=event_type)


Delivery = tuple[str, StoredEvent]  # (subscription, event): one handler's work on one event


def delivery_of(event_type: str, handler: str, aggregate_id: uuid.UUID) -> Delivery:
    return handler, StoredEvent.objects.get(event_type=event_type, aggregate_id=aggregate_id)


def run(delivery: Delivery) -> HandlingOutcome:
    return handle_once(*delivery)


def redeliver(delivery: Delivery) -> HandlingOutcome:
    """Deliver the same event to the same handler again, as at-least-once delivery may."""
    return handle_once(*delivery)
