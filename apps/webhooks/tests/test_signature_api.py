"""The endpoints' signature checks: each case's HTTP answer, its log row, and no side effect."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.payments.tests.helpers import submitted_order
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import (
    PAYMENT_SECRET,
    encode,
    make_secret,
    new_webhook_id,
    only_log,
    payment_succeeded,
    post_webhook,
    reference_headers,
)

pytestmark = pytest.mark.django_db

OLD_SECRET = make_secret("old")
NEW_SECRET = make_secret("new")


@pytest.fixture
def submitted(customer: Any) -> tuple[Order, Payment]:
    return submitted_order(customer, "card")


def events_now() -> int:
    return StoredEvent.objects.count()


def assert_rejected(response: Any, order: Order, events_before: int, status: int = 401) -> None:
    """Answered with a problem document, logged as rejected, and nothing else happened."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    if status == 401:
        assert response.json()["code"] == "webhook_signature_invalid"
    log = only_log()
    assert log.outcome == WebhookOutcome.REJECTED
    assert log.error
    assert Order.objects.get(id=order.id).state == "PENDING"
    assert StoredEvent.objects.count() == events_before


def test_a_validly_signed_message_is_processed(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, payment = submitted
    response = post_webhook(anon_client, "payment", payment_succeeded(payment), webhook_id="msg_ok")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "outcome": "processed",
        "webhook_id": "msg_ok",
        "message_type": "payment.succeeded",
        "order_id": str(order.id),
        "detail": "",
    }
    log = only_log()
    assert (log.outcome, log.signature_valid, log.order_id) == (
        WebhookOutcome.PROCESSED,
        True,
        order.id,
    )
    assert log.processed_at is not None
    assert Order.objects.get(id=order.id).state == "PAID"


def test_a_message_signed_with_a_wrong_secret_is_rejected_with_401(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, payment = submitted
    before = events_now()
    response = post_webhook(anon_client, "payment", payment_succeeded(payment), secret=OLD_SECRET)
    assert_rejected(response, order, before)
    assert only_log().signature_valid is False


def test_a_tampered_body_is_rejected_with_401(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, payment = submitted
    before = events_now()
    signed_body = encode(payment_succeeded(payment))
    headers = reference_headers(PAYMENT_SECRET, signed_body)
    tampered = signed_body.replace(b'"EUR"', b'"USD"')
    response = post_webhook(anon_client, "payment", tampered, headers=headers)
    assert_rejected(response, order, before)
    # The body is logged as it arrived, for whoever investigates.
    assert only_log().body == tampered.decode()


@pytest.mark.parametrize(
    "offset", [timedelta(minutes=-6), timedelta(hours=-2)], ids=["6-minutes", "2-hours"]
)
def test_an_old_timestamp_is_rejected_with_401(
    anon_client: APIClient, submitted: tuple[Order, Payment], offset: timedelta
) -> None:
    order, payment = submitted
    before = events_now()
    at = datetime.now(UTC) + offset
    response = post_webhook(anon_client, "payment", payment_succeeded(payment), at=at)
    assert_rejected(response, order, before)
    assert "too old" in response.json()["detail"]


def test_a_future_timestamp_is_rejected_with_401(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, payment = submitted
    before = events_now()
    at = datetime.now(UTC) + timedelta(minutes=6)
    response = post_webhook(anon_client, "payment", payment_succeeded(payment), at=at)
    assert_rejected(response, order, before)
    assert "future" in response.json()["detail"]


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature", "all"])
def test_missing_headers_are_rejected_with_401(
    anon_client: APIClient, submitted: tuple[Order, Payment], missing: str
) -> None:
    order, payment = submitted
    before = events_now()
    body = encode(payment_succeeded(payment))
    headers = reference_headers(PAYMENT_SECRET, body)
    headers = {} if missing == "all" else {k: v for k, v in headers.items() if k != missing}
    response = post_webhook(anon_client, "payment", body, headers=headers)
    assert_rejected(response, order, before)


def test_a_rotated_secret_is_accepted_beside_the_old_one_until_the_old_one_is_removed(
    anon_client: APIClient, submitted: tuple[Order, Payment], settings: Any
) -> None:
    order, payment = submitted
    message = payment_succeeded(payment)
    # Step 1 of a rotation: both secrets are configured; the sender still uses the old one.
    settings.OMS_WEBHOOK_SECRETS = {"payment": [NEW_SECRET, OLD_SECRET], "shipping": []}
    old = post_webhook(anon_client, "payment", message, secret=OLD_SECRET, webhook_id="msg_a")
    assert old.status_code == 200, old.content
    # Step 2: the sender switched to the new secret.
    new = post_webhook(anon_client, "payment", message, secret=NEW_SECRET, webhook_id="msg_b")
    assert new.status_code == 200, new.content
    # Step 3: the old secret is removed; a message signed with it no longer passes.
    settings.OMS_WEBHOOK_SECRETS = {"payment": [NEW_SECRET], "shipping": []}
    before = events_now()
    stale = post_webhook(anon_client, "payment", message, secret=OLD_SECRET, webhook_id="msg_c")
    assert stale.status_code == 401
    assert StoredEvent.objects.count() == before
    assert list(WebhookLog.objects.order_by("id").values_list("webhook_id", "outcome")) == [
        ("msg_a", WebhookOutcome.PROCESSED),
        # Same payment result again: the order is PAID already, the service records nothing.
        ("msg_b", WebhookOutcome.PROCESSED),
        ("msg_c", WebhookOutcome.REJECTED),
    ]
    assert Order.objects.get(id=order.id).state == "PAID"


def test_without_a_configured_secret_every_webhook_is_rejected(
    anon_client: APIClient, submitted: tuple[Order, Payment], settings: Any
) -> None:
    order, payment = submitted
    settings.OMS_WEBHOOK_SECRETS = {"payment": [], "shipping": []}
    before = events_now()
    response = post_webhook(anon_client, "payment", payment_succeeded(payment))
    assert_rejected(response, order, before)
    assert "No webhook secret" in response.json()["detail"]


def test_a_payment_secret_does_not_open_the_shipping_endpoint(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, _ = submitted
    before = events_now()
    message = {
        "type": "shipment.shipped",
        "data": {"order_id": str(order.id), "carrier": "DHL", "tracking_number": "T1"},
    }
    response = post_webhook(anon_client, "shipping", message, secret=PAYMENT_SECRET)
    assert_rejected(response, order, before)


def test_a_forged_message_cannot_block_the_genuine_one_with_the_same_id(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    order, payment = submitted
    webhook_id = new_webhook_id()
    forged = post_webhook(
        anon_client, "payment", payment_succeeded(payment), secret=OLD_SECRET, webhook_id=webhook_id
    )
    assert forged.status_code == 401
    genuine = post_webhook(
        anon_client, "payment", payment_succeeded(payment), webhook_id=webhook_id
    )
    assert genuine.status_code == 200
    assert genuine.json()["outcome"] == "processed"
    assert Order.objects.get(id=order.id).state == "PAID"


def test_credentials_are_not_logged_but_the_signature_headers_are(
    anon_client: APIClient, submitted: tuple[Order, Payment]
) -> None:
    _, payment = submitted
    body = encode(payment_succeeded(payment))
    headers = {
        **reference_headers(PAYMENT_SECRET, body),
        "Authorization": "Token secret",
        "Cookie": "sessionid=secret",
    }
    response = post_webhook(anon_client, "payment", body, headers=headers)
    assert response.status_code == 200
    logged = only_log().headers
    assert {"webhook-id", "webhook-timestamp", "webhook-signature"} <= set(logged)
    assert "authorization" not in logged
    assert "cookie" not in logged
    assert only_log().body == body.decode()
