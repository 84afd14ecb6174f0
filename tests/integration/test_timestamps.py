"""Every moment the API shows is written one way: RFC 3339 in UTC ending in ``Z``.

The order, its nested payment, shipment and refunds, the lists, the history and timeline (event
payloads and metadata stored with ``+00:00`` included), the event stream, the refunds
endpoints, the statistics, the dead letters, the subscriptions, the stuck orders and the
outbound webhooks (their messages' bodies too) are walked to the last string: a string that
begins like a date and time must be in the one form, and none may end in ``+00:00``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from rest_framework import serializers
from rest_framework.test import APIClient

from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent
from apps.orders.commands import Actor
from apps.outbound import sender
from apps.payments.commands import RecordPaymentResult, RecordRefundResult
from apps.payments.services import PaymentService
from apps.recovery.models import StuckOrder, StuckReason
from shared import clock
from shared.timestamps import utc_text, with_utc_z
from tests.support.webhook_receiver import Receiver, send_to_loopback

ONE_FORM = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
LOOKS_LIKE_A_MOMENT = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")


def strings_in(document: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    if isinstance(document, str):
        yield path, document
    elif isinstance(document, list):
        for index, item in enumerate(document):
            yield from strings_in(item, f"{path}[{index}]")
    elif isinstance(document, dict):
        for key, value in document.items():
            yield from strings_in(value, f"{path}.{key}")


def moments_in(name: str, document: Any) -> dict[str, str]:
    """The moments of ``document`` by path, after checking that each is in the one form."""
    found: dict[str, str] = {}
    for path, text in strings_in(document):
        assert not text.endswith("+00:00"), f"{name} {path}: {text}"
        if LOOKS_LIKE_A_MOMENT.match(text):
            assert ONE_FORM.match(text), f"{name} {path}: {text}"
            found[path] = text
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


def test_stored_documents_are_shown_in_the_one_form_and_nothing_else_changes() -> None:
    stored = {
        "expires_at": "2026-11-24T23:59:01.120000+00:00",
        "nested": [{"at": "2026-11-24T23:59:01+00:00"}],
        "day": "2026-11-24",
        "elsewhere": "2026-11-24T23:59:01+02:00",
        "reason": "paid on 2026-11-24T23:59:01+00:00 by transfer",
        "amount": "12.50",
        "count": 3,
    }
    assert with_utc_z(stored) == {
        **stored,
        "expires_at": "2026-11-24T23:59:01.120000Z",
        "nested": [{"at": "2026-11-24T23:59:01Z"}],
    }
