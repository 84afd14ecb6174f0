"""Standard Webhooks signatures of outbound messages, made with the reference package.

During a rotation's overlap a message carries two signatures, the new secret's and the previous
one's (space-separated, as the specification allows): a consumer verifying with either accepts it.
"""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

from apps.outbound.models import WebhookEndpoint

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_secrets(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    found = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at is not None
        and endpoint.previous_secret_expires_at > now
    ):
        found.append(endpoint.previous_secret)
    return found


def signed_headers(
    endpoint: WebhookEndpoint, *, webhook_id: str, body: str, now: datetime
) -> dict[str, str]:
    signatures = [
        Webhook(secret).sign(webhook_id, now, body) for secret in signing_secrets(endpoint, now)
    ]
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": " ".join(signatures),
    }
