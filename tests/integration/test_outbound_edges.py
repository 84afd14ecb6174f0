"""Outbound webhooks at their edges: what receivers answer oddly, senders that lose their lease,
replays racing the fan-out, addresses that hide a private network."""

from __future__ import annotations

import gzip
import ipaddress
import time
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.registry import ALL_EVENTS, registry
from apps.events.subscriptions import run_until_idle
from apps.outbound import sender
from apps.outbound.addresses import allowed
from apps.outbound.attempt import authority, new_client, post
from apps.outbound.models import DeliveryAttempt, MessageStatus, OutboundMessage, WebhookEndpoint
from shared import clock
from tests.integration.test_outbound_delivery import LIFECYCLE, lifecycle, register
from tests.support.webhook_receiver import Receiver, send_to_loopback

pytestmark = pytest.mark.django_db(transaction=True)

ORDER = {"currency": "EUR", "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}]}


@pytest.fixture(autouse=True)
def _outbound_settings(settings: Any) -> None:
    send_to_loopback(settings, retries=[0.0, 0.0, 0.0], timeout=2.0)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "100.64.0.1",
        "169.254.169.254",
        "0.0.0.0",
        "::1",
        "::ffff:127.0.0.1",
        "::127.0.0.1",
        "64:ff9b::a00:1",
        "2002:7f00:1::",
        "fec0::1",
        "ff02::1",
    ],
)
def test_private_reserved_and_tunnelled_addresses_are_not_allowed(
    settings: Any, address: str
) -> None:
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = []
    assert not allowed(ipaddress.ip_address(address))


def test_public_addresses_are_allowed(settings: Any) -> None:
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = []
    assert allowed(ipaddress.ip_address("93.184.216.34"))
    assert allowed(ipaddress.ip_address("2606:2800:220:1:248:1893:25c8:1946"))


def test_a_wildcard_subscription_reads_every_event_type() -> None:
    assert "outbound.fan_out" in registry.handler_names_for("OrderPaid")
    assert "outbound.fan_out" in registry.handler_names_for("SomethingDeclaredLater")
    assert registry.event_types_of("outbound.fan_out") == frozenset({ALL_EVENTS})


def test_a_redirect_to_the_receiver_itself_is_not_followed(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    register(staff_client, receiver, event_types=["order.created"])
    receiver.behaviour = lambda number, webhook_id: (
        (302, {"Location": receiver.url + "?again"}, b"") if number == 0 else (200, {}, b"ok")
    )
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    sender.send_due(limit=1)
    assert len(receiver.arrivals) == 1  # the Location was not asked for
    assert OutboundMessage.objects.get().status == MessageStatus.PENDING


@pytest.mark.parametrize(
    ("listen_on", "url_host", "allowed_network"),
    [("::1", "::1", "::1/128"), ("127.0.0.2", "::ffff:127.0.0.2", "127.0.0.0/8")],
    ids=["ipv6-loopback", "ipv4-mapped"],
)
def test_an_ipv6_endpoint_is_named_in_brackets_in_the_host_header(
    settings: Any,
    staff_client: APIClient,
    customer_client: APIClient,
    listen_on: str,
    url_host: str,
    allowed_network: str,
) -> None:
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = [allowed_network]
    receiver = Receiver(address=listen_on, url_host=url_host).start()
    try:
        register(staff_client, receiver, event_types=["order.created"])
        customer_client.post("/api/v1/orders/", ORDER, format="json")
        sender.send_due(limit=1)
    finally:
        receiver.stop()
    (arrival,) = receiver.arrivals
    assert arrival.host_header == f"[{url_host}]:{receiver.port}"
    assert OutboundMessage.objects.get().status == MessageStatus.DELIVERED


@pytest.mark.parametrize(
    ("host", "port", "scheme", "expected"),
    [
        ("::1", 80, "http", "[::1]"),
        ("2606:2800:220:1::1", 8443, "https", "[2606:2800:220:1::1]:8443"),
        ("93.184.216.34", 443, "https", "93.184.216.34"),
        ("hooks.example.com", 443, "http", "hooks.example.com:443"),
        ("hooks.example.com", 80, "http", "hooks.example.com"),
    ],
)
def test_the_host_header_brackets_ipv6_and_leaves_out_the_default_port(
    host: str, port: int, scheme: str, expected: str
) -> None:
    assert authority(host, port, scheme) == expected


def test_an_http_date_retry_after_without_a_zone_is_read_as_utc(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    later = clock.now() + timedelta(hours=2)
    stamp = later.strftime("%a, %d %b %Y %H:%M:%S -0000")
    receiver.behaviour = lambda number, webhook_id: (503, {"Retry-After": stamp}, b"later")
    register(staff_client, receiver, event_types=["order.created"])
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    sender.send_due(limit=1)
    message = OutboundMessage.objects.get()
    assert message.status == MessageStatus.PENDING
    assert message.next_attempt_at > clock.now() + timedelta(minutes=110)


def test_an_endpoint_whose_url_the_client_cannot_use_does_not_hold_up_the_batch(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    broken = register(staff_client, receiver, event_types=["order.created"])
    register(staff_client, receiver, event_types=["order.created"])
    # Written behind the checks' back (an older release, a hand edit): the sender must cope.
    WebhookEndpoint.objects.filter(id=broken["id"]).update(url="http://exa mple.com:99999/x")
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    sender.send_due(limit=2)
    statuses = dict(OutboundMessage.objects.values_list("endpoint_id", "status"))
    assert statuses.pop(WebhookEndpoint.objects.get(id=broken["id"]).id) == MessageStatus.PENDING
    assert list(statuses.values()) == [MessageStatus.DELIVERED]
    failed = DeliveryAttempt.objects.get(message__endpoint_id=broken["id"])
    assert failed.error


def test_a_compressed_answer_counts_its_bytes_on_the_wire(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    settings.OMS_OUTBOUND_RESPONSE_LIMIT_BYTES = 4096
    bomb = gzip.compress(b"0" * 20_000_000)  # about 20 kB that inflate to 20 MB
    receiver.behaviour = lambda number, webhook_id: (
        500,
        {"Content-Encoding": "gzip"},
        bomb,
    )
    register(staff_client, receiver, event_types=["order.created"])
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    sender.send_due(limit=1)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.error == "the answer is larger than 4096 bytes; the rest was not read"
    assert len(attempt.response_body) <= 4096  # raw bytes (replaced where not UTF-8), not 20 MB


@pytest.mark.postgres
def test_a_nul_byte_in_an_answer_is_dropped_not_fatal(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    receiver.behaviour = lambda number, webhook_id: (500, {}, b"bad\x00answer")
    register(staff_client, receiver, event_types=["order.created"])
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    sender.send_due(limit=1)
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_body == "badanswer"
    assert OutboundMessage.objects.get().last_error == "badanswer"


def test_a_sender_whose_lease_ran_out_records_nothing_and_the_message_is_sent_once_more(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    register(staff_client, receiver, event_types=["order.created"])
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    (stale,) = sender.claim(10, lease=0.2)
    assert sender.claim(10, lease=0.2) == []  # claimed: nobody else takes it
    time.sleep(0.3)
    (again,) = sender.claim(10, lease=30)  # the lease ran out: another sender takes it
    assert again.id == stale.id
    client = new_client()
    sender.record([stale], [post(client, stale)])  # the first sender, too late
    assert not DeliveryAttempt.objects.exists()
    sender.record([again], [post(client, again)])
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.DELIVERED, 1)
    assert DeliveryAttempt.objects.count() == 1
    assert len(receiver.accepted()) == 1
    assert [a.webhook_id for a in receiver.arrivals] == [message.webhook_id] * 2


def test_a_replay_writes_only_what_the_fan_out_has_passed(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    endpoint = register(staff_client, receiver)
    settings.OMS_SUBSCRIPTIONS_RUN_AFTER_COMMIT = False  # the fan-out lags behind
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    response = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/replay/", {"after_position": 0}, format="json"
    )
    assert response.json() == {"scheduled": 0}  # the fan-out will write it, in order
    run_until_idle()
    sender.send_due()
    assert [a.body["type"] for a in receiver.accepted()] == ["order.created", "payment.requested"]
    assert OutboundMessage.objects.count() == 2  # each written once


def test_a_replay_since_a_time_resends_the_events_committed_since(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    endpoint = register(staff_client, receiver)
    first = lifecycle(customer_client, staff_client)
    time.sleep(0.05)
    cut = clock.now()
    second = lifecycle(customer_client, staff_client)
    sender.send_due()
    receiver.arrivals.clear()
    response = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/replay/",
        {"since": cut.isoformat()},
        format="json",
    )
    assert response.json() == {"scheduled": len(LIFECYCLE)}
    sender.send_due()
    assert {a.body["data"]["order_id"] for a in receiver.arrivals} == {second}
    assert len(receiver.arrivals) == len(LIFECYCLE)
    assert first != second


def test_a_redelivered_message_that_failed_gets_its_retry_schedule_again(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    endpoint = register(staff_client, receiver, event_types=["order.created"])
    receiver.behaviour = lambda number, webhook_id: (500, {}, b"no")
    customer_client.post("/api/v1/orders/", ORDER, format="json")
    for _ in range(5):
        sender.send_due()
    message = OutboundMessage.objects.get()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 4)
    staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message.id}/redeliver/"
    )
    for _ in range(5):
        sender.send_due()
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 8)  # 1 + 3 retries again


def test_a_name_that_takes_too_long_to_resolve_is_refused_in_time(
    settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import socket

    from apps.outbound.addresses import AddressRefused, resolve_allowed

    settings.OMS_OUTBOUND_TIMEOUT_SECONDS = 0.3

    def stuck_resolver(*args: Any, **kwargs: Any) -> Any:  # the system's, hanging
        time.sleep(2)
        raise OSError("gave up")

    monkeypatch.setattr(socket, "getaddrinfo", stuck_resolver)
    started = time.monotonic()
    with pytest.raises(AddressRefused, match=r"did not resolve within 0\.3 s"):
        resolve_allowed("slow.example", 443)
    assert time.monotonic() - started < 1.5
