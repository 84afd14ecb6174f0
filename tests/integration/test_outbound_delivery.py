"""Outbound webhooks end to end: orders' events reach a real receiver on 127.0.0.1 that
verifies them with the ``standardwebhooks`` reference package, complete and in order per order,
through failures, stalls, an outage, two senders; redelivery, replay, refusals."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter, defaultdict
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.commands import Actor
from apps.outbound import sender
from apps.outbound.models import DeliveryAttempt, MessageStatus, OutboundMessage
from apps.payments.commands import RecordPaymentResult
from apps.payments.services import PaymentService
from shared.timestamps import utc_text
from tests.support.webhook_receiver import (
    Arrival,
    Receiver,
    accept,
    send_to_loopback,
    stall,
)

pytestmark = pytest.mark.django_db(transaction=True)

LIFECYCLE = [
    "order.created",
    "payment.requested",
    "payment.submitted",
    "payment.succeeded",
    "order.paid",
    "shipment.requested",
    "order.processing_started",
    "shipment.shipped",
    "order.shipped",
    "shipment.delivered",
    "order.delivered",
]


@pytest.fixture(autouse=True)
def _outbound_settings(settings: Any) -> None:
    send_to_loopback(settings, retries=[0.0] * 15, timeout=0.4)


def register(staff_client: APIClient, receiver: Receiver, **fields: Any) -> dict[str, Any]:
    response = staff_client.post(
        "/api/v1/webhook-endpoints/", {"url": receiver.url, **fields}, format="json"
    )
    assert response.status_code == 201, response.content
    endpoint: dict[str, Any] = response.json()
    receiver.secret = endpoint["secret"]
    return endpoint


def lifecycle(customer_client: APIClient, staff_client: APIClient) -> str:
    """One order from creation to delivery: the seed's eleven events."""
    created = customer_client.post(
        "/api/v1/orders/",
        {
            "currency": "EUR",
            "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 1, "unit_price": "9.90"}],
        },
        format="json",
    )
    order_id: str = created.json()["id"]
    paid = customer_client.post(f"/api/v1/orders/{order_id}/pay/")
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid.json()["provider_reference"],
            succeeded=True,
            actor=Actor.system(),
        )
    )
    assert staff_client.post(f"/api/v1/orders/{order_id}/ship/").status_code == 200
    assert staff_client.post(f"/api/v1/orders/{order_id}/deliver/").status_code == 200
    return order_id


def drain(deadline_seconds: float = 60.0) -> None:
    deadline = time.monotonic() + deadline_seconds
    while OutboundMessage.objects.filter(status=MessageStatus.PENDING).exists():
        assert time.monotonic() < deadline, "messages still pending"
        sender.send_due()


def by_order(arrivals: list[Arrival]) -> dict[str, list[Arrival]]:
    grouped: dict[str, list[Arrival]] = defaultdict(list)
    for arrival in arrivals:
        grouped[arrival.body["data"]["order_id"]].append(arrival)
    return grouped


def assert_complete_and_in_order(receiver: Receiver, order_ids: list[str]) -> None:
    """After deduplication by webhook id each order's lifecycle arrived once, in order; and no
    message of an order reached the receiver before the previous one was accepted."""
    accepted = by_order(receiver.accepted())
    assert sorted(accepted) == sorted(order_ids)
    for order_id, arrivals in accepted.items():
        assert [a.body["type"] for a in arrivals] == LIFECYCLE, order_id
        assert [a.body["data"]["sequence"] for a in arrivals] == list(range(1, 12))
    for arrivals in by_order(list(receiver.arrivals)).values():
        highest_accepted = 0
        for arrival in arrivals:
            sequence = arrival.body["data"]["sequence"]
            assert sequence <= highest_accepted + 1, "sent before its predecessor was accepted"
            if 200 <= arrival.status < 300:
                highest_accepted = max(highest_accepted, sequence)


def assert_repeats_only_after_a_timeout(receiver: Receiver) -> None:
    """A message accepted twice was sent twice because its first answer never came back."""
    counts = Counter(a.webhook_id for a in receiver.arrivals if 200 <= a.status < 300)
    for webhook_id, times in counts.items():
        if times > 1:
            errors = DeliveryAttempt.objects.filter(message__webhook_id=webhook_id).values_list(
                "error", flat=True
            )
            assert any("Timeout" in error for error in errors), webhook_id


def flaky(seed: int, *, stall_rate: float = 0.1, fail_rate: float = 0.25) -> Any:
    chooser = random.Random(seed)
    lock = threading.Lock()
    slow = stall(1.0)

    def behaviour(number: int, webhook_id: str) -> tuple[int, dict[str, str], bytes]:
        with lock:
            draw = chooser.random()
        if draw < stall_rate:
            return slow(number, webhook_id)
        if draw < stall_rate + fail_rate:
            return 500, {}, b"try again"
        return accept(number, webhook_id)

    return behaviour


def test_lifecycles_arrive_complete_and_in_order_through_failures_and_stalls(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    register(staff_client, receiver)
    receiver.behaviour = flaky(seed=7)
    orders = [lifecycle(customer_client, staff_client) for _ in range(3)]
    drain()
    assert_complete_and_in_order(receiver, orders)
    assert_repeats_only_after_a_timeout(receiver)
    assert receiver.rejected == 0  # every signature verified
    assert set(OutboundMessage.objects.values_list("status", flat=True)) == {"delivered"}
    failed = DeliveryAttempt.objects.exclude(response_status=200)
    assert failed.exists()  # the receiver did fail: the retries were needed


@pytest.mark.postgres
def test_two_senders_deliver_each_message_once_in_order(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    register(staff_client, receiver)
    receiver.behaviour = flaky(seed=11, stall_rate=0.0, fail_rate=0.3)
    orders = [lifecycle(customer_client, staff_client) for _ in range(4)]
    errors: list[BaseException] = []

    def run_sender() -> None:
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                sender.send_due(limit=5)
                if not OutboundMessage.objects.filter(status=MessageStatus.PENDING).exists():
                    return
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run_sender) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_complete_and_in_order(receiver, orders)
    # No stalls, so no cause for a repeat: each message was accepted exactly once.
    accepted = Counter(a.webhook_id for a in receiver.arrivals if a.status == 200)
    assert set(accepted.values()) == {1}
    assert len(accepted) == 4 * len(LIFECYCLE)


def test_a_receiver_that_was_down_gets_everything_once_it_returns(
    settings: Any, receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS = [0.2] * 50
    register(staff_client, receiver)
    receiver.stop()
    order_id = lifecycle(customer_client, staff_client)
    for _ in range(3):
        sender.send_due()
        time.sleep(0.25)
    assert receiver.arrivals == []
    waiting = OutboundMessage.objects.filter(status=MessageStatus.PENDING)
    assert waiting.count() == len(LIFECYCLE)
    # Only the first message of the order was tried: the rest wait behind it.
    assert set(waiting.exclude(attempts=0).values_list("sequence", flat=True)) == {1}
    assert "ConnectError" in DeliveryAttempt.objects.first().error  # type: ignore[union-attr]
    scraped = staff_client.get("/metrics").content.decode()
    assert f"oms_outbound_pending_messages {float(len(LIFECYCLE))}" in scraped
    receiver.start()  # the same port
    drain()
    assert_complete_and_in_order(receiver, [order_id])
    assert "oms_outbound_pending_messages 0.0" in staff_client.get("/metrics").content.decode()


def test_a_disabled_endpoint_receives_nothing(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    other = Receiver().start()
    try:
        register(staff_client, receiver)
        disabled = register(staff_client, other)
        patched = staff_client.patch(
            f"/api/v1/webhook-endpoints/{disabled['id']}/", {"enabled": False}, format="json"
        )
        assert patched.status_code == 200
        assert patched.json()["enabled"] is False
        order_id = lifecycle(customer_client, staff_client)
        drain()
        assert_complete_and_in_order(receiver, [order_id])
        assert other.arrivals == []
        assert not OutboundMessage.objects.filter(endpoint_id=disabled["id"]).exists()
    finally:
        other.stop()


def test_an_endpoint_only_gets_the_event_types_it_asked_for(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    register(staff_client, receiver, event_types=["order.paid", "order.delivered"])
    lifecycle(customer_client, staff_client)
    drain()
    arrived = [(a.body["type"], a.body["data"]["sequence"]) for a in receiver.accepted()]
    assert arrived == [("order.paid", 5), ("order.delivered", 11)]


def test_a_redelivery_carries_the_same_webhook_id(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    endpoint = register(staff_client, receiver, event_types=["order.created"])
    lifecycle(customer_client, staff_client)
    drain()
    (first,) = receiver.arrivals
    message = OutboundMessage.objects.get()
    response = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message.id}/redeliver/"
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    drain()
    assert [a.webhook_id for a in receiver.arrivals] == [first.webhook_id, first.webhook_id]
    assert receiver.arrivals[1].body == first.body
    detail = staff_client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message.id}/")
    assert [attempt["number"] for attempt in detail.json()["delivery_attempts"]] == [1, 2]


def test_a_replay_from_a_position_resends_exactly_the_events_after_it(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    endpoint = register(staff_client, receiver)
    orders = [lifecycle(customer_client, staff_client) for _ in range(2)]
    drain()
    first_time = {a.body["data"]["event_id"]: a.webhook_id for a in receiver.accepted()}
    positions = list(StoredEvent.objects.order_by("position").values_list("position", flat=True))
    cut = positions[len(positions) // 2]
    receiver.arrivals.clear()
    response = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/replay/",
        {"after_position": cut},
        format="json",
    )
    assert response.status_code == 200, response.content
    expected = list(
        StoredEvent.objects.filter(position__gt=cut)
        .order_by("position")
        .values_list("event_id", flat=True)
    )
    assert response.json() == {"scheduled": len(expected)}
    drain()
    again = receiver.accepted()
    assert sorted(a.body["data"]["event_id"] for a in again) == sorted(map(str, expected))
    for arrival in again:  # the same ids as the first time
        assert first_time[arrival.body["data"]["event_id"]] == arrival.webhook_id
    for arrivals in by_order(again).values():
        sequences = [a.body["data"]["sequence"] for a in arrivals]
        assert sequences == sorted(sequences)
    assert set(by_order(again)) <= set(orders)


def test_a_replay_reaches_back_before_the_endpoint_existed(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    order_id = lifecycle(customer_client, staff_client)
    endpoint = register(staff_client, receiver)
    drain()
    assert receiver.arrivals == []  # registered after the order's events
    response = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/replay/", {"after_position": 0}, format="json"
    )
    assert response.json() == {"scheduled": len(LIFECYCLE)}
    drain()
    assert_complete_and_in_order(receiver, [order_id])


def test_the_message_carries_the_public_payload_the_order_and_its_sequence(
    receiver: Receiver, customer_client: APIClient, staff_client: APIClient
) -> None:
    register(staff_client, receiver, event_types=["order.created"])
    order_id = lifecycle(customer_client, staff_client)
    drain()
    (arrival,) = receiver.arrivals
    event = StoredEvent.objects.get(event_type="OrderCreated")
    assert arrival.body == {
        "type": "order.created",
        "timestamp": utc_text(event.occurred_at),
        "data": {
            "event_id": str(event.event_id),
            "order_id": order_id,
            "sequence": 1,
            "position": event.position,
            "aggregate_type": "order",
            "aggregate_id": order_id,
            "payload": event.payload,
        },
    }
