"""A provider's message is read by the API's own rules: strict JSON declared as JSON, amounts as
decimal strings written with the currency's places, printable free text and identifiers, strings
where strings belong.

Every refusal is a problem document, leaves its one ``rejected`` log row (as any malformed message
does) and applies nothing; the signature is checked first, over the bytes as sent.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.payments.models import Payment
from apps.payments.tests.helpers import submitted_order
from apps.webhooks.models import WebhookLog, WebhookOutcome
from apps.webhooks.tests.helpers import (
    PAYMENT_SECRET,
    only_log,
    payment_failed,
    payment_succeeded,
    post_webhook,
    reference_headers,
    shipment_message,
    state_of,
)
from shared.strict_json import MAX_DEPTH

pytestmark = pytest.mark.django_db


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    """The problem document of a refused message, after checking that it was logged rejected."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    problem: dict[str, Any] = response.json()
    assert (problem["status"], problem["code"]) == (status, code)
    log = only_log()
    assert (log.outcome, log.signature_valid) == (WebhookOutcome.REJECTED, True)
    assert log.error
    return problem


def raw_amount(message: dict[str, Any], raw: str) -> bytes:
    """``message`` as JSON text with ``raw`` pasted in as the amount (a number, an exponent...)."""
    text = json.dumps(message)
    quoted = json.dumps(message["data"]["amount"])
    assert text.count(quoted) == 1
    return text.replace(quoted, raw).encode()


# --- the body: declared as JSON, and strict JSON --------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    [
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
        "application/problem+json",
        "application/json; charset=latin-1",
        "application/json; charset=utf-16",
    ],
    ids=["missing", "text", "form", "other-json-type", "latin-1", "utf-16"],
)
def test_a_body_not_declared_as_utf8_json_is_415_and_applies_nothing(
    anon_client: APIClient, customer: Any, content_type: str
) -> None:
    order, payment = submitted_order(customer, "card")
    events = StoredEvent.objects.count()
    response = post_webhook(
        anon_client, "payment", payment_succeeded(payment), content_type=content_type
    )
    refused(response, 415, "unsupported_media_type")
    assert (state_of(order.id), StoredEvent.objects.count()) == ("PENDING", events)


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "application/json; charset=utf-8", "Application/JSON; Charset=UTF-8"],
)
def test_json_in_utf8_is_accepted_however_the_header_is_spelled(
    anon_client: APIClient, customer: Any, content_type: str
) -> None:
    order, payment = submitted_order(customer, "card")
    response = post_webhook(
        anon_client, "payment", payment_succeeded(payment), content_type=content_type
    )
    assert response.json()["outcome"] == "processed"
    assert state_of(order.id) == "PAID"


def test_duplicate_keys_are_400_malformed_and_apply_nothing(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    # A reader that keeps the first "type" sees a success; one that keeps the last, a decline.
    declined = json.dumps(payment_failed(payment))
    body = declined.replace('{"type": ', '{"type": "payment.succeeded", "type": ', 1).encode()
    problem = refused(post_webhook(anon_client, "payment", body), 400, "malformed_request")
    assert "duplicate key 'type'" in problem["detail"]
    assert state_of(order.id) == "PENDING"
    assert Payment.objects.get(id=payment.id).status == payment.status


def test_nesting_deeper_than_the_api_allows_is_400_malformed(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_failed(payment)
    message["data"]["extra"] = json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)
    problem = refused(post_webhook(anon_client, "payment", message), 400, "malformed_request")
    assert f"nested deeper than {MAX_DEPTH}" in problem["detail"]
    assert state_of(order.id) == "PENDING"


def test_unknown_fields_within_the_depth_limit_are_still_accepted(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_failed(payment)
    message["data"]["metadata"] = {"attempt": 1, "network": {"code": "51"}}
    assert post_webhook(anon_client, "payment", message).json()["outcome"] == "processed"
    assert state_of(order.id) == "FAILED"


def test_the_signature_is_checked_before_the_body_is_read(anon_client: APIClient) -> None:
    body = b'{"type": "payment.failed", "type": "payment.failed"}'
    headers = reference_headers(PAYMENT_SECRET, body + b" ")  # signed over other bytes
    response = post_webhook(anon_client, "payment", body, headers=headers, content_type="")
    assert response.status_code == 401
    assert response.json()["code"] == "webhook_signature_invalid"
    log = WebhookLog.objects.get()
    assert (log.outcome, log.signature_valid) == (WebhookOutcome.REJECTED, False)


# --- amounts: the API's money rules ---------------------------------------------------------------


FULL_WIDTH_DIGITS = {ord("0") + digit: 0xFF10 + digit for digit in range(10)}


def misspelled(exact: str, how: str) -> str:
    """The JSON text of the amount ``exact`` (a decimal string) spelled ``how``."""
    value = Decimal(exact)
    spellings = {
        "extra-zero": json.dumps(f"{exact}0" if "." in exact else f"{exact}.0"),
        "exponent": json.dumps(f"{value.normalize():e}"),
        "number": exact,
        "leading-space": json.dumps(f" {exact}"),
        "plus-sign": json.dumps(f"+{exact}"),
        "decimal-comma": json.dumps(exact.replace(".", ",")),
        "full-width": json.dumps(exact.translate(FULL_WIDTH_DIGITS)),
    }
    return spellings[how]


@pytest.mark.parametrize(
    ("currency", "how"),
    [
        *[
            ("EUR", how)
            for how in (
                "extra-zero",
                "exponent",
                "number",
                "leading-space",
                "plus-sign",
                "decimal-comma",
                "full-width",
            )
        ],
        ("JPY", "extra-zero"),
        ("JPY", "number"),
        ("KWD", "extra-zero"),
        ("KWD", "exponent"),
    ],
)
def test_an_amount_the_api_would_refuse_is_400_naming_it_and_applies_nothing(
    anon_client: APIClient, customer: Any, currency: str, how: str
) -> None:
    order, payment = submitted_order(customer, "card", currency=currency)
    message = payment_succeeded(payment)
    # The value is the payment's own; only its spelling is wrong.
    raw = misspelled(message["data"]["amount"], how)
    events = StoredEvent.objects.count()
    body = raw_amount(message, raw)
    problem = refused(post_webhook(anon_client, "payment", body), 400, "validation_error")
    assert list(problem["errors"]["data"]) == ["amount"]
    assert (state_of(order.id), StoredEvent.objects.count()) == ("PENDING", events)
    assert Payment.objects.get(id=payment.id).status == payment.status


@pytest.mark.parametrize(
    ("currency", "fewer_places"), [("EUR", False), ("EUR", True), ("JPY", False), ("KWD", True)]
)
def test_an_amount_in_plain_decimals_within_the_currencys_places_is_accepted(
    anon_client: APIClient, customer: Any, currency: str, fewer_places: bool
) -> None:
    order, payment = submitted_order(customer, "card", currency=currency)
    message = payment_succeeded(payment)
    if fewer_places:
        message["data"]["amount"] = message["data"]["amount"].rstrip("0")
    assert post_webhook(anon_client, "payment", message).json()["outcome"] == "processed"
    assert state_of(order.id) == "PAID"


def test_an_unknown_currency_is_400_naming_the_currency(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_succeeded(payment)
    message["data"]["currency"] = "eur"
    problem = refused(post_webhook(anon_client, "payment", message), 400, "validation_error")
    assert list(problem["errors"]["data"]) == ["currency"]
    assert state_of(order.id) == "PENDING"


# --- free text and strings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason",
    ["declined\u0007", "\u001b[31mdeclined", "card \u202eexpired", "\u2066x\u2069", "   ", "a\nb"],
    ids=["bell", "ansi-escape", "bidi-override", "bidi-isolate", "whitespace-only", "newline"],
)
def test_a_reason_that_is_not_printable_text_is_400_naming_it(
    anon_client: APIClient, customer: Any, reason: str
) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_failed(payment, reason=reason)
    problem = refused(post_webhook(anon_client, "payment", message), 400, "validation_error")
    assert list(problem["errors"]["data"]) == ["reason"]
    assert state_of(order.id) == "PENDING"


def test_a_reason_is_stored_trimmed(anon_client: APIClient, customer: Any) -> None:
    _, payment = submitted_order(customer, "card")
    message = payment_failed(payment, reason="  insufficient funds \n")
    assert post_webhook(anon_client, "payment", message).json()["outcome"] == "processed"
    assert Payment.objects.get(id=payment.id).failure_reason == "insufficient funds"


def test_a_number_where_a_reference_belongs_is_400(anon_client: APIClient, customer: Any) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_failed(payment)
    message["data"]["provider_reference"] = 12345
    problem = refused(post_webhook(anon_client, "payment", message), 400, "validation_error")
    assert list(problem["errors"]["data"]) == ["provider_reference"]
    assert state_of(order.id) == "PENDING"


@pytest.mark.parametrize("field", ["carrier", "tracking_number"])
@pytest.mark.parametrize(
    "value",
    ["\u001b[31mDHL", "DHL\u202e1", "   ", "DHL\t1", "DHL  1", "\u3164"],
    ids=["ansi-escape", "bidi-override", "whitespace-only", "tab", "two-spaces", "hangul-filler"],
)
def test_a_shipment_identifier_that_is_not_printable_is_400_naming_it(
    anon_client: APIClient, customer: Any, field: str, value: str
) -> None:
    order, _ = submitted_order(customer, "card")
    events = StoredEvent.objects.count()
    message = shipment_message("delivered", order.id)
    message["data"][field] = value
    problem = refused(post_webhook(anon_client, "shipping", message), 400, "validation_error")
    assert list(problem["errors"]["data"]) == [field]
    assert (state_of(order.id), StoredEvent.objects.count()) == ("PENDING", events)


def test_a_refund_reference_that_is_not_printable_is_400_naming_it(
    anon_client: APIClient, customer: Any
) -> None:
    order, payment = submitted_order(customer, "card")
    message = payment_succeeded(payment)
    message["type"] = "refund.succeeded"
    message["data"]["refund_reference"] = "refund_\u001b[2J"
    problem = refused(post_webhook(anon_client, "payment", message), 400, "validation_error")
    assert list(problem["errors"]["data"]) == ["refund_reference"]
    assert state_of(order.id) == "PENDING"
