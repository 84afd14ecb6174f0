"""The payment handlers under at-least-once delivery: a second delivery duplicates nothing."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import IntegrityError, transaction

from apps.events.models import StoredEvent
from apps.events.registry import registry
from apps.events.subscriptions import HandlingOutcome
from apps.orders.tests.factories import create_order
from apps.payments.commands import RefundPayment, RequestPayment
from apps.payments.models import Payment, Refund
from apps.payments.state_machine import PaymentStatus
from apps.payments.tests.helpers import (
    SYSTEM,
    cancel,
    delivery_of,
    paid_order,
    payment_of,
    payments,
    redeliver,
    run,
    submitted_order,
)
from apps.payments.tests.providers import RecordingProvider
from shared import clock

pytestmark = pytest.mark.django_db

REQUEST = "payments.request_payment"
RELEASE = "payments.release_cancelled_order_payment"


def counts() -> tuple[int, int, int]:
    return Payment.objects.count(), Refund.objects.count(), StoredEvent.objects.count()


def test_the_handlers_are_registered_for_their_order_events() -> None:
    assert REQUEST in registry.handler_names_for("OrderCreated")
    assert RELEASE in registry.handler_names_for("OrderCancelled")


def test_order_created_delivered_twice_requests_one_payment(customer: Any) -> None:
    order = create_order(customer, payment_method="wallet")
    delivery = delivery_of("OrderCreated", REQUEST, order.id)
    assert run(delivery) == HandlingOutcome.SUCCEEDED
    payment = payment_of(order)
    assert (payment.status, payment.method, payment.amount) == ("requested", "wallet", order.total)
    requested = StoredEvent.objects.get(aggregate_id=payment.id)
    assert requested.event_type == "PaymentRequested"
    assert requested.payload["order_id"] == str(order.id)
    # The causation chain: the request was caused by the order's creation.
    created = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderCreated")
    assert requested.metadata["causation_id"] == str(created.event_id)
    assert requested.metadata["correlation_id"] == created.metadata["correlation_id"]
    before = counts()

    assert redeliver(delivery) == HandlingOutcome.SUCCEEDED
    handler = registry.create(REQUEST)
    handler.handle(created.envelope())
    handler.handle(created.envelope())
    assert counts() == before


def test_order_cancelled_delivered_twice_refunds_once(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, _ = paid_order(customer)
    cancel(order)
    delivery = delivery_of("OrderCancelled", RELEASE, order.id)
    assert run(delivery) == HandlingOutcome.SUCCEEDED
    assert payment_of(order).status == PaymentStatus.REFUNDED
    before = counts()

    assert redeliver(delivery) == HandlingOutcome.SUCCEEDED
    handler = registry.create(RELEASE)
    cancelled = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderCancelled")
    handler.handle(cancelled.envelope())
    handler.handle(cancelled.envelope())
    assert counts() == before
    assert len(provider.called("refund")) == 1


def test_order_cancelled_delivered_twice_voids_once(
    customer: Any, provider: type[RecordingProvider]
) -> None:
    order, _ = submitted_order(customer)
    cancel(order)
    delivery = delivery_of("OrderCancelled", RELEASE, order.id)
    assert run(delivery) == HandlingOutcome.SUCCEEDED
    assert payment_of(order).status == PaymentStatus.VOIDED
    before = counts()

    assert redeliver(delivery) == HandlingOutcome.SUCCEEDED
    cancelled = StoredEvent.objects.get(aggregate_id=order.id, event_type="OrderCancelled")
    registry.create(RELEASE).handle(cancelled.envelope())
    assert counts() == before
    assert len(provider.called("void")) == 1


def test_a_cancellation_delivered_before_the_creation_leaves_no_payment_behind(
    customer: Any,
) -> None:
    # Workers may run deliveries in any order: the cancel's handler finds nothing to release,
    # and the late creation handler sees the order is past paying.
    order = create_order(customer)
    cancel(order)
    run(delivery_of("OrderCancelled", RELEASE, order.id))
    run(delivery_of("OrderCreated", REQUEST, order.id))
    assert not Payment.objects.filter(order_id=order.id).exists()


def test_the_database_refuses_a_second_payment_for_one_order(customer: Any) -> None:
    order = create_order(customer)
    payment = payments.request_payment(RequestPayment(order_id=order.id, actor=SYSTEM))
    assert payment is not None
    twin = Payment(
        order_id=order.id,
        amount=payment.amount,
        currency=payment.currency,
        method=payment.method,
        status=PaymentStatus.REQUESTED,
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)


def test_the_database_refuses_a_second_refund_for_one_payment(customer: Any) -> None:
    order, payment = paid_order(customer)
    payments.refund(RefundPayment(order_id=order.id, actor=SYSTEM))
    twin = Refund(
        payment=payment,
        amount=payment.amount,
        currency=payment.currency,
        provider_reference="refund_other",
        created_at=clock.now(),
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save(force_insert=True)


def test_a_twin_creation_finds_the_first_payment_and_appends_nothing(
    customer: Any, settings: Any
) -> None:
    """The unique order id decides when two runs create the payment: the second gets the
    first's row, and the log has one PaymentRequested."""
    from apps.orders.commands import Actor
    from apps.payments.services import PaymentService

    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False
    order = create_order(customer)
    service = PaymentService()
    with transaction.atomic():
        first = service._create(order, Actor.system(), None)
        second = service._create(order, Actor.system(), None)
    assert second.id == first.id
    assert Payment.objects.filter(order_id=order.id).count() == 1
    requested = StoredEvent.objects.filter(event_type="PaymentRequested", partition_key=order.id)
    assert list(requested.values_list("aggregate_id", flat=True)) == [first.id]
