"""Every moment the API shows is written one way: RFC 3339 in UTC ending in ``Z``; nothing else
it shows is rewritten.

The order, its nested payment, shipment and refunds, the lists, the history and timeline (event
payloads and metadata, those stored with ``+00:00`` before the one form included), the event
stream, the refunds endpoints, the statistics, the dead letters, the subscriptions, the stuck
orders and the outbound webhooks (their messages' bodies too) are walked to the last string:
every value under a key that names a moment is in the one form, and no other string looks like a
moment. Free text that reads like a time (an item's name, a cancellation reason) comes back as it
was given, everywhere.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.events.base import payload_in_one_form
from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent
from apps.orders.commands import Actor
from apps.outbound import sender
from apps.outbound.handlers import body_of
from apps.outbound.names import public_name
from apps.payments.commands import RecordPaymentResult, RecordRefundResult
from apps.payments.events import PaymentSubmitted
from apps.payments.services import PaymentService
from apps.recovery.models import StuckOrder, StuckReason
from shared import clock
from shared.timestamps import moments_in_one_form, utc_text
from tests.support.webhook_receiver import Receiver, send_to_loopback

ONE_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
LOOKS_LIKE_A_MOMENT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
# Free text in these tests that reads exactly like a moment in the other form.
LOOKS_LIKE_A_TIME = "2026-01-01T00:00:00+00:00"


def names_a_moment(key: str) -> bool:
    return key.endswith("_at") or key in {"at", "since", "timestamp"}


def strings_in(document: Any, path: str = "$", key: str = "") -> Iterator[tuple[str, str, str]]:
    """``(path, key, text)`` of every string in ``document``; ``key`` is the nearest dict key."""
    if isinstance(document, str):
        yield path, key, document
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from strings_in(item, f"{path}[{index}]", key)
    elif isinstance(document, dict):
        for name, value in document.items():
            yield from strings_in(value, f"{path}.{name}", name)


def moments_in(name: str, document: Any) -> dict[str, str]:
    """The moments of ``document`` by path, after checking that each is in the one form and that
    nothing under another key looks like a moment (a moment field the walk would not know)."""
    found: dict[str, str] = {}
    for path, key, text in strings_in(document):
        if names_a_moment(key):
            assert ONE_FORM.match(text), f"{name} {path}: {text}"
            found[path] = text
        else:
            assert not LOOKS_LIKE_A_MOMENT.match(text), f"{name} {path}: {text}"
    return found


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    return response.json()


ORDER = {
    "currency": "EUR",
    "items": [{"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": "12.50"}],
}


@pytest.mark.django_db(transaction=True)
def test_every_representation_writes_its_moments_in_one_form(
    customer_client: APIClient,
    staff_client: APIClient,
    receiver: Receiver,
    settings: Any,
) -> None:
    send_to_loopback(settings, retries=[0.2], timeout=5.0)
    endpoint = ok(
        staff_client.post("/api/v1/webhook-endpoints/", {"url": receiver.url}, format="json"), 201
    )
    receiver.secret = endpoint["secret"]
    answers: dict[str, Any] = {"endpoint created": endpoint}

    # A card order taken to delivery and partly refunded; a bank transfer waiting for money.
    created = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)
    order = created["id"]
    answers["create"] = created
    answers["pay"] = paid = ok(customer_client.post(f"/api/v1/orders/{order}/pay/"), 202)
    PaymentService().record_result(
        RecordPaymentResult(
            provider_reference=paid["provider_reference"], succeeded=True, actor=Actor.system()
        )
    )
    answers["ship"] = ok(staff_client.post(f"/api/v1/orders/{order}/ship/"))
    answers["deliver"] = ok(staff_client.post(f"/api/v1/orders/{order}/deliver/"))
    answers["refund"] = refund = ok(
        staff_client.post(f"/api/v1/orders/{order}/refunds/", {"amount": "1.00"}, format="json"),
        201,
    )
    PaymentService().record_refund_result(
        RecordRefundResult(
            provider_reference=paid["provider_reference"],
            refund_reference=refund["provider_reference"],
            succeeded=True,
            actor=Actor.system(),
        )
    )
    transfer = ok(
        customer_client.post(
            "/api/v1/orders/", {**ORDER, "payment_method": "bank_transfer"}, format="json"
        ),
        201,
    )["id"]
    answers["pay by transfer"] = ok(customer_client.post(f"/api/v1/orders/{transfer}/pay/"), 202)
    cancelled = ok(customer_client.post("/api/v1/orders/", ORDER, format="json"), 201)["id"]
    answers["cancel"] = ok(customer_client.post(f"/api/v1/orders/{cancelled}/cancel/"))
    # The transfer's events as they were stored before the one form.
    written_before_the_one_form(transfer)

    # What operators see when something is stuck or gave up.
    now = clock.now()
    event = StoredEvent.objects.filter(partition_key=order).order_by("position").first()
    assert event is not None
    assert event.position is not None
    ParkedEvent.objects.create(
        subscription="tests.gave_up",
        event=event,
        bucket=event.bucket,
        partition_key=event.partition_key,
        position=event.position,
        status=ParkedStatus.DEAD,
        attempts=4,
        next_attempt_at=now,
        last_error="it kept failing",
        created_at=now,
        updated_at=now,
        dead_at=now,
    )
    StuckOrder.objects.create(
        order_id=transfer,
        reason=StuckReason.choices[0][0],
        state="PENDING",
        since=now - timedelta(hours=2),
        noticed_at=now,
        attempts=1,
        last_attempt_at=now,
    )
    sender.send_due()

    for name, path, client in [
        ("detail", f"/api/v1/orders/{order}/", customer_client),
        ("detail of the transfer", f"/api/v1/orders/{transfer}/", customer_client),
        ("list", "/api/v1/orders/", customer_client),
        ("history", f"/api/v1/orders/{order}/history/", customer_client),
        ("timeline", f"/api/v1/orders/{order}/events/", customer_client),
        ("timeline of the transfer", f"/api/v1/orders/{transfer}/events/", customer_client),
        ("refunds", f"/api/v1/orders/{order}/refunds/", customer_client),
        ("stream", "/api/v1/events/", staff_client),
        ("stats", "/api/v1/orders/stats/", staff_client),
        ("dead letters", "/api/v1/events/dead-letters/", staff_client),
        ("subscriptions", "/api/v1/events/subscriptions/", staff_client),
        ("stuck orders", "/api/v1/stuck-orders/", staff_client),
        ("endpoints", "/api/v1/webhook-endpoints/", staff_client),
        ("messages", f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/", staff_client),
    ]:
        answers[name] = ok(client.get(path))
    messages = answers["messages"]["results"]
    assert messages
    for message in messages:
        detail = ok(
            staff_client.get(
                f"/api/v1/webhook-endpoints/{endpoint['id']}/messages/{message['id']}/"
            )
        )
        answers[f"message {message['id']}"] = detail
        answers[f"body of message {message['id']}"] = json.loads(detail["body"])

    seen = {name: moments_in(name, answer) for name, answer in answers.items()}
    # The walk reached the moments built from dicts and those stored in the log.
    assert {"$.created_at", "$.updated_at"} <= set(seen["create"])
    assert {"$.payment.updated_at", "$.shipment.shipped_at", "$.shipment.delivered_at"} <= set(
        seen["detail"]
    )
    assert {"$.refunds[0].created_at", "$.refunds[0].settled_at"} <= set(seen["detail"])
    assert "$.payment.expires_at" in seen["detail of the transfer"]
    assert "$.expires_at" in seen["pay by transfer"]
    assert "$[0].created_at" in seen["refunds"]
    assert "$.created_at" in seen["refund"]
    assert "$.generated_at" in seen["stats"]
    assert "$.results[0].metadata.timestamp" in seen["timeline"]
    assert any(path.endswith(".payload.expires_at") for path in seen["timeline of the transfer"])
    assert any(path.endswith(".metadata.timestamp") for path in seen["stream"])
    assert "$.results[0].dead_at" in seen["dead letters"]
    assert "$.results[0].since" in seen["stuck orders"]
    assert any(
        path == "$.timestamp" for name, paths in seen.items() if "body" in name for path in paths
    )
    assert "$.results[0].at" in seen["history"]
    assert any(path.endswith(".paid_at") for path in seen["list"])


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 11, 24, 23, 59, 1, 120000, tzinfo=UTC),
        datetime(2026, 11, 24, 23, 59, 1, tzinfo=UTC),
        datetime(2026, 11, 25, 1, 59, 1, 5, tzinfo=timezone(timedelta(hours=2))),
    ],
)
def test_the_one_form_is_the_one_drf_writes(moment: datetime) -> None:
    written = utc_text(moment)
    assert written == serializers.DateTimeField().to_representation(moment)
    assert ONE_FORM.match(written)
    assert datetime.fromisoformat(written) == moment


def test_a_moment_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="time zone"):
        utc_text(datetime(2026, 11, 24, 12, 0))


def in_the_offset_form(text: str) -> str:
    """``text`` as ``datetime.isoformat()`` wrote moments before the one form: ``…+00:00``."""
    return datetime.fromisoformat(text).isoformat()


def written_before_the_one_form(order_id: str) -> None:
    """Rewrite the stored moments of ``order_id``'s events (payloads and metadata) in the form
    events were written with before the one form."""
    for event in StoredEvent.objects.filter(partition_key=order_id):
        payload = dict(event.payload)
        if payload.get("expires_at"):
            payload["expires_at"] = in_the_offset_form(payload["expires_at"])
        metadata = {**event.metadata, "timestamp": in_the_offset_form(event.metadata["timestamp"])}
        StoredEvent.objects.filter(pk=event.pk).update(payload=payload, metadata=metadata)
        assert metadata["timestamp"].endswith("+00:00")


@dataclass(frozen=True, kw_only=True)
class Stop:
    place: str
    arrived_at: datetime
    left_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class Journey:
    note: str
    starts_at: datetime
    stops: list[Stop]
    labels: dict[str, str]
    day: datetime | None = None


def test_stored_documents_show_the_moments_their_type_declares_in_the_one_form() -> None:
    stored = {
        "note": LOOKS_LIKE_A_TIME,
        "starts_at": "2026-11-24T23:59:01.120000+00:00",
        "stops": [
            {"place": LOOKS_LIKE_A_TIME, "arrived_at": "2026-11-25T01:59:01+02:00"},
            {"place": "Ghent", "arrived_at": "2026-11-24T23:59:01Z", "left_at": None},
        ],
        "labels": {"at": LOOKS_LIKE_A_TIME},
        "day": "2026-11-24",
        "unknown": LOOKS_LIKE_A_TIME,
    }
    assert moments_in_one_form(stored, Journey) == {
        **stored,
        "starts_at": "2026-11-24T23:59:01.120000Z",
        "stops": [
            {"place": LOOKS_LIKE_A_TIME, "arrived_at": "2026-11-24T23:59:01Z"},
            {"place": "Ghent", "arrived_at": "2026-11-24T23:59:01Z", "left_at": None},
        ],
    }


def test_an_event_payload_shows_only_its_declared_moments_in_the_one_form() -> None:
    payload = {
        "method": "bank_transfer",
        "provider_reference": LOOKS_LIKE_A_TIME,
        "instructions": {"reference": LOOKS_LIKE_A_TIME},
        "expires_at": "2026-11-24T23:59:01+00:00",
    }
    assert payload_in_one_form("PaymentSubmitted", payload) == {
        **payload,
        "expires_at": "2026-11-24T23:59:01Z",
    }
    # A type no loaded app declares: nothing is known to be a moment, nothing changes.
    assert payload_in_one_form("NoSuchEvent", payload) == payload


@pytest.mark.django_db(transaction=True)
def test_new_events_are_stored_in_the_one_form_and_old_ones_still_read_back(
    customer_client: APIClient,
) -> None:
    transfer = ok(
        customer_client.post(
            "/api/v1/orders/", {**ORDER, "payment_method": "bank_transfer"}, format="json"
        ),
        201,
    )["id"]
    paid = ok(customer_client.post(f"/api/v1/orders/{transfer}/pay/"), 202)
    submitted = StoredEvent.objects.get(partition_key=transfer, event_type="PaymentSubmitted")
    assert ONE_FORM.match(submitted.payload["expires_at"])
    assert datetime.fromisoformat(submitted.payload["expires_at"]) == datetime.fromisoformat(
        paid["expires_at"]
    )
    for event in StoredEvent.objects.filter(partition_key=transfer):
        assert ONE_FORM.match(event.metadata["timestamp"])

    # Events stored in the earlier form read back as the same typed events, fold into the same
    # order, and the store still verifies.
    as_new = submitted.envelope().event
    assert isinstance(as_new, PaymentSubmitted)
    assert as_new.expires_at is not None
    written_before_the_one_form(transfer)
    submitted.refresh_from_db()
    assert submitted.payload["expires_at"].endswith("+00:00")
    assert submitted.envelope().event == as_new
    out = StringIO()
    call_command("verify_event_store", stdout=out)
    assert "verified: 0 mismatches" in out.getvalue()
    assert (
        ok(customer_client.get(f"/api/v1/orders/{transfer}/"))["payment"]["expires_at"]
        == (paid["expires_at"])
    )
    # An outbound body built from an event stored in the earlier form has the one form.
    body = json.loads(body_of(submitted.envelope(), 1))
    assert body["data"]["payload"]["expires_at"] == utc_text(as_new.expires_at)


@pytest.mark.django_db(transaction=True)
def test_free_text_that_reads_like_a_time_comes_back_as_it_was_given(
    customer_client: APIClient,
    staff_client: APIClient,
    receiver: Receiver,
    settings: Any,
) -> None:
    send_to_loopback(settings, retries=[0.2], timeout=5.0)
    endpoint = ok(
        staff_client.post("/api/v1/webhook-endpoints/", {"url": receiver.url}, format="json"), 201
    )
    receiver.secret = endpoint["secret"]
    item = {"sku": "BOOK-1", "name": LOOKS_LIKE_A_TIME, "quantity": 1, "unit_price": "12.50"}
    created = ok(
        customer_client.post("/api/v1/orders/", {**ORDER, "items": [item]}, format="json"), 201
    )
    order = created["id"]
    cancelled = ok(
        customer_client.post(
            f"/api/v1/orders/{order}/cancel/", {"reason": LOOKS_LIKE_A_TIME}, format="json"
        )
    )
    assert created["items"][0]["name"] == LOOKS_LIKE_A_TIME
    assert cancelled["items"][0]["name"] == LOOKS_LIKE_A_TIME
    assert ok(customer_client.get(f"/api/v1/orders/{order}/"))["items"][0]["name"] == (
        LOOKS_LIKE_A_TIME
    )
    history = ok(customer_client.get(f"/api/v1/orders/{order}/history/"))["results"]
    assert history[-1]["reason"] == LOOKS_LIKE_A_TIME

    def payloads_of(events: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
        mine = [event for event in events if event["aggregate_id"] == order]
        for event in mine:
            assert ONE_FORM.match(event["metadata"]["timestamp"])
        return {event["event_type"]: event["payload"] for event in mine}

    timeline = payloads_of(ok(customer_client.get(f"/api/v1/orders/{order}/events/"))["results"])
    stream = payloads_of(ok(staff_client.get("/api/v1/events/"))["results"])
    sender.send_due()
    # What the endpoint received, signature verified, by event type.
    outbound = {
        event_type: arrival.body["data"]["payload"]
        for event_type in ("OrderCreated", "OrderCancelled")
        for arrival in receiver.arrivals
        if arrival.body["type"] == public_name(event_type)
        and arrival.body["data"]["aggregate_id"] == order
    }
    for name, payloads in [("timeline", timeline), ("stream", stream), ("webhook", outbound)]:
        assert payloads["OrderCreated"]["items"][0]["name"] == LOOKS_LIKE_A_TIME, name
        assert payloads["OrderCancelled"]["reason"] == LOOKS_LIKE_A_TIME, name
