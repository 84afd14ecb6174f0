"""Our Standard Webhooks implementation against the reference library, both ways."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from apps.webhooks.tests.helpers import make_secret, reference_headers
from apps.webhooks.verification import (
    InvalidSecret,
    decode_secret,
    sign,
    signed_headers,
    verify,
)
from shared.clock import frozen_clock
from shared.exceptions import WebhookSignatureInvalid

SECRET = make_secret("unit")
OTHER = make_secret("other")
BODY = b'{"type":"payment.failed","data":{"provider_reference":"card_1","reason":"no"}}'
NOW = datetime(2025, 1, 31, 12, 0, tzinfo=UTC)


def test_a_signature_of_the_reference_library_verifies_here() -> None:
    headers = reference_headers(SECRET, BODY, webhook_id="msg_1", at=NOW)
    verified = verify(secrets=[SECRET], headers=headers, body=BODY, now=NOW)
    assert verified.webhook_id == "msg_1"
    assert verified.timestamp == NOW


def test_our_signature_verifies_with_the_reference_library() -> None:
    # The reference checks the timestamp against the real clock, so sign at the real time.
    headers = signed_headers([SECRET], webhook_id="msg_2", body=BODY, at=datetime.now(UTC))
    assert Webhook(SECRET).verify(BODY, headers) == {
        "type": "payment.failed",
        "data": {"provider_reference": "card_1", "reason": "no"},
    }


def test_our_signature_equals_the_reference_signature_byte_for_byte() -> None:
    ours = sign(SECRET, webhook_id="msg_3", timestamp=int(NOW.timestamp()), body=BODY)
    assert ours == Webhook(SECRET).sign("msg_3", NOW, BODY.decode())


def test_the_reference_library_refuses_a_signature_made_with_another_secret() -> None:
    headers = signed_headers([OTHER], webhook_id="msg_4", body=BODY, at=datetime.now(UTC))
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(BODY, headers)


def test_a_wrong_secret_or_a_changed_body_is_refused() -> None:
    headers = reference_headers(OTHER, BODY, at=NOW)
    with pytest.raises(WebhookSignatureInvalid, match="No signature matches"):
        verify(secrets=[SECRET], headers=headers, body=BODY, now=NOW)
    headers = reference_headers(SECRET, BODY, at=NOW)
    with pytest.raises(WebhookSignatureInvalid, match="No signature matches"):
        verify(secrets=[SECRET], headers=headers, body=BODY.replace(b"no", b"ok"), now=NOW)


def test_one_matching_entry_among_several_is_enough_and_unknown_versions_are_skipped() -> None:
    good = reference_headers(SECRET, BODY, webhook_id="msg_5", at=NOW)
    wrong = reference_headers(OTHER, BODY, webhook_id="msg_5", at=NOW)["webhook-signature"]
    good["webhook-signature"] = f"v1a,AAAA {wrong} v1,not-base64! {good['webhook-signature']}"
    assert verify(secrets=[SECRET], headers=good, body=BODY, now=NOW).webhook_id == "msg_5"


def test_every_configured_secret_is_accepted() -> None:
    headers = reference_headers(OTHER, BODY, at=NOW)
    assert verify(secrets=[SECRET, OTHER], headers=headers, body=BODY, now=NOW)


@pytest.mark.parametrize(
    ("offset", "accepted"),
    [
        (timedelta(minutes=-5), True),
        (timedelta(minutes=-5, seconds=-1), False),
        (timedelta(minutes=5), True),
        (timedelta(minutes=5, seconds=1), False),
    ],
)
def test_the_timestamp_may_be_at_most_five_minutes_off_our_clock(
    offset: timedelta, accepted: bool
) -> None:
    headers = reference_headers(SECRET, BODY, at=NOW + offset)
    with frozen_clock(NOW):
        if accepted:
            assert verify(secrets=[SECRET], headers=headers, body=BODY)
        else:
            with pytest.raises(WebhookSignatureInvalid, match="timestamp"):
                verify(secrets=[SECRET], headers=headers, body=BODY)


@pytest.mark.parametrize("missing", ["webhook-id", "webhook-timestamp", "webhook-signature"])
def test_a_missing_header_is_named(missing: str) -> None:
    headers = reference_headers(SECRET, BODY, at=NOW)
    del headers[missing]
    with pytest.raises(WebhookSignatureInvalid, match=missing):
        verify(secrets=[SECRET], headers=headers, body=BODY, now=NOW)


@pytest.mark.parametrize(
    "timestamp", ["1738324800.5", "-1738324800", "soon", "\uff11\uff17\uff13\uff18"]
)
def test_a_timestamp_that_is_not_unix_seconds_is_refused(timestamp: str) -> None:
    headers = reference_headers(SECRET, BODY, at=NOW)
    headers["webhook-timestamp"] = timestamp
    with pytest.raises(WebhookSignatureInvalid, match="Unix seconds"):
        verify(secrets=[SECRET], headers=headers, body=BODY, now=NOW)


def test_header_names_are_case_insensitive() -> None:
    headers = {k.title(): v for k, v in reference_headers(SECRET, BODY, at=NOW).items()}
    assert verify(secrets=[SECRET], headers=headers, body=BODY, now=NOW)


def test_without_any_secret_nothing_verifies() -> None:
    headers = reference_headers(SECRET, BODY, at=NOW)
    with pytest.raises(WebhookSignatureInvalid, match="No webhook secret"):
        verify(secrets=[], headers=headers, body=BODY, now=NOW)


def test_a_malformed_configured_secret_is_skipped_not_fatal() -> None:
    headers = reference_headers(SECRET, BODY, at=NOW)
    assert verify(secrets=["whsec_%%%", SECRET], headers=headers, body=BODY, now=NOW)


def test_secrets_decode_with_or_without_prefix_and_padding() -> None:
    key = b"sixteen byte key"
    encoded = base64.b64encode(key).decode()
    assert decode_secret("whsec_" + encoded) == key
    assert decode_secret(encoded) == key
    assert decode_secret("whsec_" + encoded.rstrip("=")) == decode_secret("whsec_" + encoded)
    for bad in ("whsec_", "whsec_not base64!", ""):
        with pytest.raises(InvalidSecret):
            decode_secret(bad)
