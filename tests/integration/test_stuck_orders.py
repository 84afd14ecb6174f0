"""Stuck orders: noticed past their deadline, moved on once, the rest listed for staff."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.commands import Actor, CancelOrder
from apps.orders.models import Order
from apps.orders.services import OrderService
from apps.orders.tests.factories import create_order
from apps.payments.commands import (
    RecordPaymentResult,
    ReleaseCancelledOrderPayment,
    SubmitPayment,
)
from apps.payments.services import PaymentService
from apps.recovery.models import StuckOrder
from apps.recovery.services import resolve_stuck_orders
from apps.webhooks.models import SimulatedWebhook
from shared import clock

payments = PaymentService()
SYSTEM = Actor.system()


def later(**delta: float) -> Any:
    return clock.now() + timedelta(**delta)


def submitted(customer: Any, method: str = "card") -> Order:
    order = create_order(customer, payment_method=method)
    payments.submit_payment(SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk)))
    return order


def pay(order: Order) -> None:
    reference = payments.submit_payment(SubmitPayment(order_id=order.id, actor=SYSTEM))
    assert reference.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=reference.provider_reference, succeeded=True, actor=SYSTEM
        )
    )


def state(order: Order) -> str:
    return Order.objects.get(id=order.id).state


def shipments_requested(order: Order) -> int:
    return StoredEvent.objects.filter(
        event_type="ShipmentRequested", payload__order_id=str(order.id)
    ).count()


@pytest.mark.django_db
def test_a_paid_order_without_a_shipment_gets_it_requested_once(
    customer: Any, staff_client: APIClient
) -> None:
    order = create_order(customer)
    pay(order)  # no subscription runs here: the shipping reaction never happened
    assert state(order) == "PAID"
    assert resolve_stuck_orders(now=later(minutes=5)).noticed == 0  # not past the deadline

    report = resolve_stuck_orders(now=later(minutes=16))
    assert (report.noticed, report.attempted, report.resolved) == (1, 1, [order.id])
    assert state(order) == "PROCESSING"
    assert shipments_requested(order) == 1
    stuck = StuckOrder.objects.get(order_id=order.id)
    assert (stuck.reason, stuck.attempts, stuck.last_outcome) == (
        "not_shipped",
        1,
        "shipment requested",
    )
    assert stuck.resolved_at is not None

    resolve_stuck_orders(now=later(minutes=30))
    assert shipments_requested(order) == 1
    assert staff_client.get("/api/v1/stuck-orders/").json()["results"] == []


@pytest.mark.django_db
def test_what_cannot_be_resolved_is_listed_for_staff_and_tried_a_bounded_number_of_times(
    customer: Any,
    staff_client: APIClient,
    customer_client: APIClient,
    settings: Any,
) -> None:
    settings.OMS_SIMULATOR_ENABLED = False  # nobody plays the provider: it never answers
    order = submitted(customer)
    transfer = submitted(customer, "bank_transfer")  # keeps its expiry instead
    for minutes in (31, 40, 50, 60, 70):
        report = resolve_stuck_orders(now=later(minutes=minutes))
    assert [row.order_id for row in report.unresolved] == [order.id]
    stuck = StuckOrder.objects.get(order_id=order.id)
    assert (stuck.reason, stuck.attempts) == ("payment_unanswered", settings.OMS_STUCK_MAX_ATTEMPTS)
    assert stuck.last_outcome == "the provider has no answer yet"
    assert not StuckOrder.objects.filter(order_id=transfer.id).exists()

    listed = staff_client.get("/api/v1/stuck-orders/")
    assert listed.status_code == 200
    [row] = listed.json()["results"]
    assert (row["order_id"], row["state"], row["reason"], row["attempts"]) == (
        str(order.id),
        "PENDING",
        "payment_unanswered",
        3,
    )
    assert row["order_url"] == f"/api/v1/orders/{order.id}/"
    assert customer_client.get("/api/v1/stuck-orders/").status_code == 403
    assert APIClient().get("/api/v1/stuck-orders/").status_code == 401

    # The answer arrives at last (a webhook): the next run closes it.
    payment = payments.submit_payment(SubmitPayment(order_id=order.id, actor=SYSTEM))
    assert payment.provider_reference
    payments.record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=SYSTEM
        )
    )
    resolve_stuck_orders(now=later(minutes=80))
    assert staff_client.get("/api/v1/stuck-orders/").json()["results"] == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("instant_simulator")
def test_a_parcel_whose_carrier_reports_were_lost_is_found_delivered(customer: Any) -> None:
    order = create_order(customer)
    pay(order)  # the reactions run: shipment requested, the carrier plans both reports
    assert state(order) == "PROCESSING"
    SimulatedWebhook.objects.filter(provider="shipping").delete()  # both reports lost

    report = resolve_stuck_orders(now=later(hours=49))
    assert report.resolved == [order.id]
    assert state(order) == "DELIVERED"
    types = list(
        StoredEvent.objects.filter(aggregate_id=order.id)
        .order_by("version")
        .values_list("event_type", flat=True)
    )
    assert types[-2:] == ["OrderShipped", "OrderDelivered"]
    assert StuckOrder.objects.get(order_id=order.id).last_outcome == "the carrier says: delivered"


@pytest.mark.django_db
def test_a_bank_transfer_paid_but_not_shipped_is_noticed_too(customer: Any) -> None:
    order = create_order(customer, payment_method="bank_transfer")
    pay(order)
    report = resolve_stuck_orders(now=later(minutes=16))
    assert order.id in report.resolved
    assert state(order) == "PROCESSING"


@pytest.mark.django_db
def test_money_a_provider_refused_to_give_back_is_asked_for_again(
    customer: Any, settings: Any
) -> None:
    from apps.payments.models import Payment
    from apps.payments.provider import RefundOutcome
    from apps.payments.tests.providers import RECORDING_PROVIDER, RecordingProvider

    settings.OMS_PAYMENT_PROVIDER = RECORDING_PROVIDER
    RecordingProvider.reset()
    order = create_order(customer)
    pay(order)
    OrderService().cancel_order(CancelOrder(actor=SYSTEM, order_id=order.id))
    RecordingProvider.refund_answer = RefundOutcome.FAILED  # the provider refuses the refund
    payments.release_for_cancelled_order(
        ReleaseCancelledOrderPayment(order_id=order.id, actor=SYSTEM)
    )
    assert Payment.objects.get(order_id=order.id).status == "succeeded"
    assert resolve_stuck_orders(now=later(minutes=30)).noticed == 0  # not past the deadline

    RecordingProvider.refund_answer = None  # it accepts the second request
    report = resolve_stuck_orders(now=later(minutes=61))
    assert report.resolved == [order.id]
    payment = Payment.objects.get(order_id=order.id)
    assert (payment.status, payment.amount_refunded) == ("refunded", payment.amount)
    assert StuckOrder.objects.get(order_id=order.id).last_outcome == "the rest asked back"
    assert len(RecordingProvider.called("refund")) == 2
    resolve_stuck_orders(now=later(minutes=90))
    assert len(RecordingProvider.called("refund")) == 2
    RecordingProvider.reset()
