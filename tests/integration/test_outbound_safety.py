"""Where the service refuses to send, how it backs off and gives up, and what staff manage:
registration, secrets shown once and rotated with an overlap, the log and its retention."""

from __future__ import annotations

import time
import uuid
from datetime import timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.outbound import sender
from apps.outbound.models import DeliveryAttempt, MessageStatus, OutboundMessage, WebhookEndpoint
from shared import clock
from tests.integration.test_outbound_delivery import register
from tests.support.webhook_receiver import Receiver, send_to_loopback, stall

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _outbound_settings(settings: Any) -> None:
    send_to_loopback(settings, retries=[0.0, 0.0, 0.0], timeout=2.0)


def one_message(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> OutboundMessage:
    """An endpoint that wants order.created, and one order: one message, sent once."""
    register(staff_client, receiver, event_types=["order.created"])
    customer_client.post(
        "/api/v1/orders/",
        {
            "currency": "EUR",
            "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1.00"}],
        },
        format="json",
    )
    sender.send_due(limit=1)
    return OutboundMessage.objects.get()


# --- refusals -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/hooks",
        "http://10.1.2.3/hooks",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hooks",
        "http://localhost/hooks",
    ],
)
def test_an_endpoint_on_a_private_or_reserved_address_is_refused(
    settings: Any, staff_client: APIClient, url: str
) -> None:
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = []
    response = staff_client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["code"] == "webhook_url_refused"
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize("url", ["ftp://example.com/hooks", "http://user:pw@example.com/hooks"])
def test_an_endpoint_url_that_is_not_plain_http_is_refused(
    staff_client: APIClient, url: str
) -> None:
    response = staff_client.post("/api/v1/webhook-endpoints/", {"url": url}, format="json")
    assert response.status_code in {400, 422}, response.content
    assert not WebhookEndpoint.objects.exists()


def test_an_address_that_became_private_is_refused_at_sending_time(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    register(staff_client, receiver, event_types=["order.created"])
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = []  # loopback no longer allowed
    customer_client.post(
        "/api/v1/orders/",
        {"currency": "EUR", "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}]},
        format="json",
    )
    sender.send_due(limit=1)
    assert receiver.arrivals == []
    attempt = DeliveryAttempt.objects.get()
    assert "private or reserved address" in attempt.error
    assert attempt.response_status is None


def test_a_redirect_is_not_followed(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    receiver.behaviour = lambda number, webhook_id: (
        302,
        {"Location": "http://127.0.0.1:9/elsewhere"},
        b"",
    )
    message = one_message(staff_client, customer_client, receiver)
    assert len(receiver.arrivals) == 1  # nobody went to the Location
    assert message.status == MessageStatus.PENDING
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_status == 302
    assert attempt.error == "redirect to http://127.0.0.1:9/elsewhere not followed"


def test_an_oversized_answer_is_read_only_up_to_the_limit(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    settings.OMS_OUTBOUND_RESPONSE_LIMIT_BYTES = 1024
    receiver.behaviour = lambda number, webhook_id: (200, {}, b"x" * 5_000_000)
    message = one_message(staff_client, customer_client, receiver)
    assert message.status == MessageStatus.DELIVERED  # received: the acknowledgement was 200
    attempt = DeliveryAttempt.objects.get()
    assert attempt.response_body == "x" * 1024 + "\n[truncated]"

    receiver.behaviour = lambda number, webhook_id: (500, {}, b"y" * 5_000_000)
    OutboundMessage.objects.update(status=MessageStatus.PENDING)
    sender.send_due(limit=1)
    failed = DeliveryAttempt.objects.get(number=2)
    assert failed.response_status == 500
    assert failed.error == "the answer is larger than 1024 bytes; the rest was not read"
    assert len(failed.response_body) == 1024


# --- back-off, giving up, disabling -------------------------------------------------------------


def test_retry_after_is_honoured_when_longer_than_the_schedule(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    receiver.behaviour = lambda number, webhook_id: (503, {"Retry-After": "120"}, b"busy")
    before = clock.now()
    message = one_message(staff_client, customer_client, receiver)
    assert message.status == MessageStatus.PENDING
    assert message.next_attempt_at >= before + timedelta(seconds=120)
    sender.send_due()
    assert len(receiver.arrivals) == 1  # not due again yet


def test_a_message_is_given_up_after_its_schedule_and_the_next_one_goes(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    register(staff_client, receiver, event_types=["order.created", "payment.requested"])
    receiver.behaviour = lambda number, webhook_id: (
        (500, {}, b"no") if number < 4 else (200, {}, b"ok")
    )
    customer_client.post(
        "/api/v1/orders/",
        {"currency": "EUR", "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}]},
        format="json",
    )
    for _ in range(5):  # a failing endpoint gets one attempt per run
        sender.send_due()
    created, requested = OutboundMessage.objects.order_by("position")
    assert (created.status, created.attempts) == (MessageStatus.FAILED, 4)  # 1 + 3 retries
    assert (requested.status, requested.attempts) == (MessageStatus.DELIVERED, 1)
    assert [a.body["type"] for a in receiver.arrivals] == ["order.created"] * 4 + [
        "payment.requested"
    ]


def test_an_endpoint_failing_for_too_long_is_disabled_with_its_reason(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    settings.OMS_OUTBOUND_DISABLE_AFTER_SECONDS = 0.2
    settings.OMS_OUTBOUND_RETRY_SCHEDULE_SECONDS = [0.3] * 5
    receiver.behaviour = lambda number, webhook_id: (500, {}, b"down for maintenance")
    message = one_message(staff_client, customer_client, receiver)
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.enabled
    assert endpoint.failing_since is not None
    time.sleep(0.35)
    sender.send_due()
    endpoint.refresh_from_db()
    assert not endpoint.enabled
    assert endpoint.disabled_reason.startswith("Every attempt failed for over 0 s")
    shown = staff_client.get(f"/api/v1/webhook-endpoints/{endpoint.id}/").json()
    assert shown["enabled"] is False
    assert shown["disabled_reason"] == endpoint.disabled_reason
    # Disabled: nothing more is sent, however long it waits.
    time.sleep(0.35)
    sender.send_due()
    assert len(receiver.arrivals) == 2
    # Enabled again by staff: the failure record starts over and the message goes out.
    receiver.behaviour = lambda number, webhook_id: (200, {}, b"ok")
    staff_client.patch(
        f"/api/v1/webhook-endpoints/{endpoint.id}/", {"enabled": True}, format="json"
    )
    sender.send_due()
    message.refresh_from_db()
    assert message.status == MessageStatus.DELIVERED
    endpoint.refresh_from_db()
    assert (endpoint.failing_since, endpoint.disabled_reason) == (None, "")


# --- staff: endpoints, secrets, the log ----------------------------------------------------------


def test_only_staff_manage_endpoints(customer_client: APIClient, anon_client: APIClient) -> None:
    body = {"url": "https://example.com/hooks"}
    assert customer_client.post("/api/v1/webhook-endpoints/", body).status_code == 403
    assert anon_client.get("/api/v1/webhook-endpoints/").status_code == 401
    assert not WebhookEndpoint.objects.exists()


def test_the_secret_is_shown_once_and_unknown_event_types_are_refused(
    staff_client: APIClient, receiver: Receiver
) -> None:
    endpoint = register(staff_client, receiver, description="ERP")
    assert endpoint["secret"].startswith("whsec_")
    listed = staff_client.get("/api/v1/webhook-endpoints/").json()["results"]
    assert [e["description"] for e in listed] == ["ERP"]
    assert "secret" not in listed[0]
    assert "secret" not in staff_client.get(f"/api/v1/webhook-endpoints/{endpoint['id']}/").json()
    refused = staff_client.post(
        "/api/v1/webhook-endpoints/",
        {"url": receiver.url, "event_types": ["order.paid", "order.teleported"]},
        format="json",
    )
    assert refused.status_code == 422
    assert refused.json()["code"] == "unknown_event_type"
    assert "order.paid" in refused.json()["known_event_types"]


def test_a_rotated_secret_signs_beside_the_new_one_during_the_overlap(
    staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    endpoint = register(staff_client, receiver, event_types=["order.created"])
    old_secret = receiver.secret
    rotated = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret/",
        {"overlap_seconds": 3600},
        format="json",
    )
    assert rotated.status_code == 200, rotated.content
    new_secret = rotated.json()["secret"]
    assert new_secret != old_secret
    # A consumer still on the old secret verifies the messages of the overlap.
    customer_client.post(
        "/api/v1/orders/",
        {"currency": "EUR", "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}]},
        format="json",
    )
    sender.send_due()
    assert (len(receiver.arrivals), receiver.rejected) == (1, 0)
    # Rotated again with no overlap: only the newest secret signs.
    newest = staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/rotate-secret/",
        {"overlap_seconds": 0},
        format="json",
    ).json()["secret"]
    message = OutboundMessage.objects.get()
    staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message.id}/redeliver/"
    )
    receiver.secret = new_secret  # the previous secret: refused now
    sender.send_due(limit=1)
    assert receiver.rejected == 1
    receiver.secret = newest
    staff_client.post(
        f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message.id}/redeliver/"
    )
    sender.send_due()
    assert len(receiver.arrivals) == 2


def test_old_attempts_are_purged_after_the_retention(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    delivered = one_message(staff_client, customer_client, receiver)
    assert delivered.status == MessageStatus.DELIVERED
    waiting = OutboundMessage.objects.create(
        **{
            field.attname: getattr(delivered, field.attname)
            for field in OutboundMessage._meta.concrete_fields
            if field.attname not in {"id", "event_id", "webhook_id", "status", "delivered_at"}
        },
        event_id=uuid.uuid4(),
        webhook_id="msg_waiting",
        status=MessageStatus.PENDING,
    )
    settings.OMS_OUTBOUND_ATTEMPT_RETENTION_DAYS = 30
    assert sender.purge_attempts(now=clock.now() + timedelta(days=29)) == 0
    # The attempt, then the delivered message (a replay would write it again, same id).
    assert sender.purge_attempts(now=clock.now() + timedelta(days=31)) == 2
    assert not DeliveryAttempt.objects.exists()
    assert list(OutboundMessage.objects.values_list("id", flat=True)) == [waiting.id]


def test_the_admin_registers_an_endpoint_through_the_same_checks(
    settings: Any, receiver: Receiver
) -> None:
    from django.contrib.auth import get_user_model
    from django.test import Client

    admin_user = get_user_model().objects.create_superuser("root-admin", password="pw-123456789")
    browser = Client()
    browser.force_login(admin_user)
    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = []
    refused = browser.post(
        "/admin/outbound/webhookendpoint/add/",
        {"url": receiver.url, "description": "", "event_types": "[]", "enabled": "on"},
    )
    assert refused.status_code == 200  # the form again, with the error
    assert "private or reserved address" in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()

    settings.OMS_OUTBOUND_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    unknown = browser.post(
        "/admin/outbound/webhookendpoint/add/",
        {"url": receiver.url, "event_types": '["order.teleported"]', "enabled": "on"},
    )
    assert "Unknown event types: order.teleported" in unknown.content.decode()
    added = browser.post(
        "/admin/outbound/webhookendpoint/add/",
        {"url": receiver.url, "event_types": '["order.paid"]', "enabled": "on"},
        follow=True,
    )
    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == ["order.paid"]
    assert endpoint.secret in added.content.decode()  # shown once, as a message


def test_a_stalling_endpoint_costs_one_attempt_per_run_and_holds_up_no_other(
    settings: Any, staff_client: APIClient, customer_client: APIClient, receiver: Receiver
) -> None:
    settings.OMS_OUTBOUND_TIMEOUT_SECONDS = 0.3
    settings.OMS_OUTBOUND_CONCURRENCY = 2
    settings.OMS_OUTBOUND_BATCH_SIZE = 2
    stalling = Receiver(behaviour=stall(2.0)).start()
    try:
        register(staff_client, stalling, event_types=["order.created"])
        healthy = register(staff_client, receiver, event_types=["order.created"])
        for _ in range(6):
            customer_client.post(
                "/api/v1/orders/",
                {
                    "currency": "EUR",
                    "items": [{"sku": "A", "name": "A", "quantity": 1, "unit_price": "1"}],
                },
                format="json",
            )
        started = time.monotonic()
        report = sender.send_due(seconds=5)
        assert time.monotonic() - started < 2.0  # not six timeouts in a row
        assert len(receiver.accepted()) == 6  # the healthy endpoint got all of them
        tried = OutboundMessage.objects.exclude(endpoint_id=healthy["id"]).exclude(attempts=0)
        assert tried.count() <= 2  # one batch at most for the stalling endpoint
        assert report.delivered == 6
    finally:
        stalling.stop()
