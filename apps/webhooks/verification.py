"""Standard Webhooks signatures (https://www.standardwebhooks.com), signed and verified here.

A message carries three headers: ``webhook-id`` (unique per message, the same on every retry),
``webhook-timestamp`` (integer Unix seconds) and ``webhook-signature``, a space-separated list of
``v1,<base64 HMAC-SHA256>`` entries computed over ``f"{id}.{timestamp}.{body}"`` with a secret
``whsec_<base64 key>``. A sender may list several signatures (one per secret during a rotation);
one match with any of our secrets for the provider is enough.

The timestamp bounds replays: a message older than five minutes, or more than five minutes ahead
of our clock, is refused even with a valid signature. Time comes from ``shared.clock``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings

from shared import clock
from shared.exceptions import WebhookSignatureInvalid

logger = logging.getLogger(__name__)

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"
SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
TOLERANCE = timedelta(minutes=5)
# Leaves room in the 255 characters of an event's idempotency key ("webhook:<provider>:<id>").
MAX_WEBHOOK_ID_LENGTH = 200


class InvalidSecret(ValueError):
    """A configured secret is not ``whsec_`` followed by non-empty base64."""


@dataclass(frozen=True)
class VerifiedWebhook:
    webhook_id: str
    timestamp: datetime


def decode_secret(secret: str) -> bytes:
    """The HMAC key of ``whsec_<base64>`` (the prefix is optional, as in the reference library)."""
    encoded = secret.strip().removeprefix(SECRET_PREFIX)
    try:
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidSecret("a webhook secret must be whsec_ followed by base64") from exc
    if not key:
        raise InvalidSecret("a webhook secret must not be empty")
    return key


def _digest(key: bytes, webhook_id: str, timestamp: str, body: bytes) -> bytes:
    # Over bytes, not text: the body is signed exactly as it travels.
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return hmac.new(key, signed, hashlib.sha256).digest()


def sign(secret: str, *, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One ``v1,<base64>`` signature entry for ``body`` sent as ``webhook_id`` at ``timestamp``."""
    digest = _digest(decode_secret(secret), webhook_id, str(timestamp), body)
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(
    secrets: Iterable[str], *, webhook_id: str, body: bytes, at: datetime | None = None
) -> dict[str, str]:
    """The three Standard Webhooks headers for ``body``, signed with each of ``secrets``."""
    timestamp = int((at or clock.now()).timestamp())
    signatures = [sign(s, webhook_id=webhook_id, timestamp=timestamp, body=body) for s in secrets]
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: " ".join(signatures),
    }


def secrets_for(provider: str) -> list[str]:
    """The secrets accepted for ``provider`` (``OMS_WEBHOOK_SECRETS_<PROVIDER>``); may be empty."""
    configured: Mapping[str, Sequence[str]] = settings.OMS_WEBHOOK_SECRETS
    return list(configured.get(provider, ()))


def verify(
    *,
    secrets: Sequence[str],
    headers: Mapping[str, str],
    body: bytes,
    now: datetime | None = None,
) -> VerifiedWebhook:
    """Check the headers and signature of a received message; raise WebhookSignatureInvalid."""
    lowered = {name.lower(): value for name, value in headers.items()}
    webhook_id = lowered.get(ID_HEADER, "")
    timestamp_text = lowered.get(TIMESTAMP_HEADER, "")
    signature_list = lowered.get(SIGNATURE_HEADER, "")
    missing = [
        name
        for name, value in (
            (ID_HEADER, webhook_id),
            (TIMESTAMP_HEADER, timestamp_text),
            (SIGNATURE_HEADER, signature_list),
        )
        if not value
    ]
    if missing:
        raise WebhookSignatureInvalid(f"Missing header(s): {', '.join(missing)}.")
    if len(webhook_id) > MAX_WEBHOOK_ID_LENGTH:
        raise WebhookSignatureInvalid(
            f"The {ID_HEADER} header is longer than {MAX_WEBHOOK_ID_LENGTH} characters."
        )
    # Integer seconds only: the signature covers the header exactly as sent.
    if not timestamp_text.isascii() or not timestamp_text.isdigit() or len(timestamp_text) > 20:
        raise WebhookSignatureInvalid(f"The {TIMESTAMP_HEADER} header is not Unix seconds.")
    moment = now or clock.now()
    # Compared as integers first: a timestamp past year 9999 has no datetime at all.
    seconds = int(timestamp_text)
    if seconds > int((moment + TOLERANCE).timestamp()):
        raise WebhookSignatureInvalid("The message timestamp is too far in the future.")
    sent_at = datetime.fromtimestamp(seconds, tz=UTC)
    if sent_at < moment - TOLERANCE:
        raise WebhookSignatureInvalid("The message timestamp is too old.")
    if sent_at > moment + TOLERANCE:
        raise WebhookSignatureInvalid("The message timestamp is too far in the future.")
    if not secrets:
        raise WebhookSignatureInvalid("No webhook secret is configured for this provider.")

    received = list(_received_signatures(signature_list))
    for secret in secrets:
        try:
            key = decode_secret(secret)
        except InvalidSecret:
            # The system check reports it at start-up; one bad entry must not disable the others.
            logger.error("a configured webhook secret is malformed and is ignored")
            continue
        expected = _digest(key, webhook_id, timestamp_text, body)
        # compare_digest: the time taken must not tell an attacker how much of a guess was right.
        if any(hmac.compare_digest(expected, candidate) for candidate in received):
            return VerifiedWebhook(webhook_id=webhook_id, timestamp=sent_at)
    raise WebhookSignatureInvalid("No signature matches.")


def _received_signatures(header: str) -> Iterable[bytes]:
    """The decoded ``v1`` signatures of the header; other versions and garbage are skipped."""
    for entry in header.split(" "):
        version, _, encoded = entry.partition(",")
        if version != SIGNATURE_VERSION or not encoded:
            continue
        try:
            yield base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            continue
