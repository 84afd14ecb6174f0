"""The simulated payment provider and carrier: what they schedule, and sending it over real HTTP."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.tests.factories import create_order
from apps.payments.commands import RecordPaymentResult, SubmitPayment
from apps.payments.services import PaymentService
from apps.payments.tests.helpers import delivery_of, redeliver, submitted_order
from apps.webhooks import simulator
from apps.webhooks.models import SimulatedWebhook, WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import PAYMENT_SECRET, make_secret, state_of
from conftest import on_postgres
from shared import clock

pytestmark = pytest.mark.django_db(transaction=True)

NO_LISTENER = "http://127.0.0.1:9"  # the discard port: nothing answers there


@pytest.fixture(autouse=True)
def simulator_settings(instant_simulator: Any) -> Any:
    """On, without delay, chance or duplicates unless a test says otherwise."""
    settings = instant_simulator
    settings.OMS_SIMULATOR_RETRY_SECONDS = 60.0
    # The live server shares the one connection of an in-memory SQLite database between threads,
    # so there it must serve one request at a time; PostgreSQL gets parallel sends.
    settings.OMS_SIMULATOR_SEND_CONCURRENCY = 4 if on_postgres() else 1
    return settings


def scheduled(message_type: str | None = None) -> list[SimulatedWebhook]:
    rows = SimulatedWebhook.objects.order_by("send_at", "id")
    return list(rows.filter(message_type=message_type) if message_type else rows)


def body_of(row: SimulatedWebhook) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(row.body)
    return document


# --- what the provider and the carrier schedule -------------------------------------------------


def test_an_approved_card_payment_is_answered_with_its_success(customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    [row] = scheduled()
    assert (row.provider, row.message_type, row.order_id, row.copy) == (
        "payment",
        "payment.succeeded",
        order.id,
        0,
    )
    assert body_of(row)["data"] == {
        "provider_reference": payment.provider_reference,
        "amount": "14.90",  # the order's total: its item and 4.90 of shipping
        "currency": "EUR",
    }
    assert row.sent_at is None


def test_a_declined_card_payment_is_answered_with_a_reason(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_APPROVAL_RATE = 0.0
    submitted_order(customer, "card")
    [row] = scheduled()
    assert row.message_type == "payment.failed"
    assert body_of(row)["data"]["reason"] in simulator.DECLINE_REASONS


@pytest.mark.parametrize(
    ("method", "approval", "answer"),
    [
        ("wallet", 1.0, "payment.authorized"),
        ("wallet", 0.0, "payment.failed"),
        ("bank_transfer", 0.0, "payment.succeeded"),
    ],
)
def test_wallets_are_approved_or_rejected_and_transfers_arrive(
    customer: Any, settings: Any, method: str, approval: float, answer: str
) -> None:
    settings.OMS_SIMULATOR_APPROVAL_RATE = approval
    submitted_order(customer, method)
    assert [row.message_type for row in scheduled()] == [answer]


def test_a_duplicate_is_the_same_message_under_the_same_id(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 1.0
    submitted_order(customer, "card")
    first, second = scheduled()
    assert (first.copy, second.copy) == (0, 1)
    assert first.webhook_id == second.webhook_id
    assert first.body == second.body


@pytest.mark.parametrize(("reorder", "first"), [(0.0, "shipped"), (1.0, "delivered")])
def test_the_carrier_ships_then_delivers_unless_it_reorders(
    customer: Any, settings: Any, reorder: float, first: str
) -> None:
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 1.0
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 2.0
    settings.OMS_SIMULATOR_REORDER_RATE = reorder
    order, payment = submitted_order(customer, "card")
    assert payment.provider_reference
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=payment.provider_reference, succeeded=True, actor=Actor.system()
        )
    )
    shipping = [row for row in scheduled() if row.provider == "shipping"]
    assert [row.message_type for row in shipping] == (
        ["shipment.shipped", "shipment.delivered"]
        if first == "shipped"
        else ["shipment.delivered", "shipment.shipped"]
    )
    assert shipping[0].send_at < shipping[1].send_at
    data = body_of(shipping[0])["data"]
    assert data["order_id"] == str(order.id)
    assert data["carrier"] == "DHL"
    assert data["tracking_number"].startswith("DHL")


def test_a_handler_that_runs_again_schedules_nothing_new(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 1.0
    _, payment = submitted_order(customer, "card")
    before = [(row.webhook_id, row.copy, row.body) for row in scheduled()]
    redeliver(delivery_of("PaymentSubmitted", "webhooks.simulator.answer_payment", payment.id))
    assert [(row.webhook_id, row.copy, row.body) for row in scheduled()] == before


def test_a_switched_off_simulator_schedules_nothing(customer: Any, settings: Any) -> None:
    settings.OMS_SIMULATOR_ENABLED = False
    submitted_order(customer, "card")
    assert scheduled() == []
    assert simulator.send_if_enabled() == 0


# --- sending over HTTP --------------------------------------------------------------------------


def drive_until(order_id: Any, state: str, base_url: str, seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        simulator.send_due_webhooks(base_url=base_url)
        if state_of(order_id) == state:
            return
        time.sleep(0.05)
    pytest.fail(f"order {order_id} is {state_of(order_id)}, not {state}, after {seconds} s")


def test_the_sender_drives_a_paid_order_to_delivered_over_http(
    customer: Any, live_server: Any, settings: Any
) -> None:
    # Spaced out, so that "delivered" is not sent alongside "shipped" (then either may win).
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 0.2
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 0.2
    order, _ = submitted_order(customer, "card")
    drive_until(order.id, "DELIVERED", live_server.url)
    assert {row.message_type for row in scheduled()} == {
        "payment.succeeded",
        "shipment.shipped",
        "shipment.delivered",
    }
    assert all(row.sent_at and row.last_status == 200 for row in scheduled())
    assert set(WebhookLog.objects.values_list("outcome", flat=True)) == {WebhookOutcome.PROCESSED}


def test_a_reordered_and_duplicated_delivery_still_ends_delivered(
    customer: Any, live_server: Any, settings: Any
) -> None:
    settings.OMS_SIMULATOR_DUPLICATE_RATE = 1.0
    settings.OMS_SIMULATOR_REORDER_RATE = 1.0
    # Some delay, so that the carrier's two reports are due at different moments; one message at
    # a time, in the order they are due, so that the reordered "delivered" is applied before
    # "shipped" even when a slow machine finds both due at once.
    settings.OMS_SIMULATOR_MIN_DELAY_SECONDS = 0.1
    settings.OMS_SIMULATOR_MAX_DELAY_SECONDS = 0.2
    settings.OMS_SIMULATOR_SEND_CONCURRENCY = 1
    order, _ = submitted_order(customer, "card")
    drive_until(order.id, "DELIVERED", live_server.url)
    deadline = time.monotonic() + 10
    while simulator.pending_count() and time.monotonic() < deadline:
        simulator.send_due_webhooks(base_url=live_server.url)
    outcomes = list(WebhookLog.objects.values_list("message_type", "outcome"))
    # Three messages sent twice each: three processed (or the late shipped ignored), three absorbed.
    assert sorted(o for _, o in outcomes).count(WebhookOutcome.DUPLICATE) == 3
    assert ("shipment.shipped", WebhookOutcome.IGNORED) in outcomes
    assert Order.objects.get(id=order.id).state == "DELIVERED"


def test_the_sender_signs_with_the_first_configured_secret(
    customer: Any, live_server: Any, settings: Any
) -> None:
    newer = make_secret("newer")
    settings.OMS_WEBHOOK_SECRETS = {
        **settings.OMS_WEBHOOK_SECRETS,
        "payment": [newer, PAYMENT_SECRET],
    }
    order, _ = submitted_order(customer, "card")
    simulator.send_due_webhooks(base_url=live_server.url)
    log = WebhookLog.objects.get(message_type="payment.succeeded")
    assert log.outcome == WebhookOutcome.PROCESSED
    # The reference library agrees: the logged signature is the newer secret's.
    Webhook(newer).verify(log.body, log.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(PAYMENT_SECRET).verify(log.body, log.headers)
    assert state_of(order.id) != "PENDING"


def test_a_failed_send_is_retried_later_and_given_up_after_the_last_attempt(
    customer: Any, settings: Any
) -> None:
    settings.OMS_SIMULATOR_MAX_ATTEMPTS = 2
    submitted_order(customer, "card")
    report = simulator.send_due_webhooks(base_url=NO_LISTENER)
    assert (report.attempted, report.delivered) == (1, 0)
    [row] = scheduled()
    assert (row.attempts, row.sent_at, row.last_status) == (1, None, None)
    assert row.last_error
    assert row.send_at > clock.now() + timedelta(seconds=50)  # 60 s back-off, not due again yet
    assert simulator.send_due_webhooks(base_url=NO_LISTENER).attempted == 0

    SimulatedWebhook.objects.update(send_at=clock.now())
    assert simulator.send_due_webhooks(base_url=NO_LISTENER).attempted == 1
    SimulatedWebhook.objects.update(send_at=clock.now())
    assert simulator.send_due_webhooks(base_url=NO_LISTENER).attempted == 0  # gave up
    assert simulator.pending_count() == 0


def test_a_row_claimed_by_another_sender_is_not_sent_twice(customer: Any) -> None:
    order = create_order(customer)
    PaymentService().submit_payment(
        SubmitPayment(order_id=order.id, actor=Actor(user_id=customer.pk))
    )
    claimed = simulator._claim(10, lease=60)
    assert len(claimed) == 1
    assert simulator.send_due_webhooks(base_url=NO_LISTENER).attempted == 0
