"""Helpers of the webhook tests: messages signed by the reference library, orders through the
real services.

The ``standardwebhooks`` package is the reference implementation of the signature scheme: the
API tests sign with it, so they prove that a real sender's signatures are accepted.
"""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime
from typing import Any

from rest_framework.test import APIClient
from standardwebhooks import Webhook

from apps.events.models import StoredEvent
from apps.orders.models import Order
from apps.payments.models import Payment
from apps.shipping.models import Shipment
from apps.webhooks.models import WebhookLog
from apps.webhooks.verification import signed_headers
from shared.money import format_amount


def make_secret(label: str) -> str:
    return "whsec_" + base64.b64encode(f"test-{label}-secret-0123456789abcdef".encode()).decode()


PAYMENT_SECRET = make_secret("payment")
SHIPPING_SECRET = make_secret("shipping")
SECRETS = {"payment": PAYMENT_SECRET, "shipping": SHIPPING_SECRET}


def new_webhook_id() -> str:
    return f"msg_{uuid.uuid4().hex}"


def reference_headers(
    secret: str, body: bytes, *, webhook_id: str | None = None, at: datetime | None = None
) -> dict[str, str]:
    """The three headers, signed by the reference library (by ours for a non-UTF-8 body, which
    the reference cannot sign)."""
    webhook_id = webhook_id or new_webhook_id()
    moment = at or datetime.now(UTC)
    try:
        body.decode()
    except UnicodeDecodeError:
        return signed_headers([secret], webhook_id=webhook_id, body=body, at=moment)
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(moment.timestamp())),
        "webhook-signature": Webhook(secret).sign(webhook_id, moment, body.decode()),
    }


def encode(message: dict[str, Any] | bytes) -> bytes:
    return message if isinstance(message, bytes) else json.dumps(message).encode()


def post_webhook(
    client: APIClient,
    provider: str,
    message: dict[str, Any] | bytes,
    *,
    secret: str | None = None,
    webhook_id: str | None = None,
    at: datetime | None = None,
    headers: dict[str, str] | None = None,
    content_type: str = "application/json",
) -> Any:
    """POST ``message`` to the provider's endpoint, signed unless ``headers`` are given.

    ``content_type=""`` sends the body without a Content-Type, as a server sees a missing one.
    """
    body = encode(message)
    if headers is None:
        headers = reference_headers(secret or SECRETS[provider], body, webhook_id=webhook_id, at=at)
    path = f"/api/v1/webhooks/{provider}/"
    # Bytes go out as they are (a test may send a body that is not UTF-8); the stubs say str.
    return client.generic("POST", path, body, content_type=content_type, headers=headers)  # type: ignore[arg-type]


# --- messages -----------------------------------------------------------------------------------


def payment_succeeded(payment: Payment) -> dict[str, Any]:
    return {
        "type": "payment.succeeded",
        "data": {
            "provider_reference": payment.provider_reference,
            "amount": format_amount(payment.amount, payment.currency),
            "currency": payment.currency,
        },
    }


def payment_failed(payment: Payment, reason: str = "insufficient funds") -> dict[str, Any]:
    return {
        "type": "payment.failed",
        "data": {"provider_reference": payment.provider_reference, "reason": reason},
    }


def shipment_message(kind: str, order_id: uuid.UUID, carrier: str = "DHL") -> dict[str, Any]:
    return {
        "type": f"shipment.{kind}",
        "data": {
            "order_id": str(order_id),
            "carrier": carrier,
            "tracking_number": f"{carrier}{order_id.hex[:12].upper()}",
        },
    }


# --- reading the outcome ------------------------------------------------------------------------


def only_log() -> WebhookLog:
    return WebhookLog.objects.get()


def outcomes() -> list[str]:
    return list(WebhookLog.objects.order_by("id").values_list("outcome", flat=True))


def state_of(order_id: uuid.UUID) -> str:
    return Order.objects.get(id=order_id).state


def event_types(order_id: uuid.UUID) -> list[str]:
    """Every event of the order, its payment and its shipment, in global sequence order."""
    aggregates = [
        order_id,
        *Payment.objects.filter(order_id=order_id).values_list("id", flat=True),
        *Shipment.objects.filter(order_id=order_id).values_list("id", flat=True),
    ]
    return list(
        StoredEvent.objects.filter(aggregate_id__in=aggregates)
        .order_by("sequence")
        .values_list("event_type", flat=True)
    )
