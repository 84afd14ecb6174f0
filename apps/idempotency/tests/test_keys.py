"""The request fingerprint and the scope of a key."""

from __future__ import annotations

from decimal import Decimal

from apps.idempotency.keys import request_fingerprint

BODY = {"currency": "EUR", "items": [{"sku": "A", "unit_price": Decimal("12.50")}]}


def test_the_fingerprint_ignores_the_order_of_keys_and_the_idempotency_key_field() -> None:
    reordered = {"items": [{"unit_price": Decimal("12.50"), "sku": "A"}], "currency": "EUR"}
    with_key_field = {**BODY, "idempotency_key": "k1"}
    fingerprint = request_fingerprint("POST", "/api/v1/orders/", BODY)
    assert request_fingerprint("post", "/api/v1/orders/", reordered) == fingerprint
    assert request_fingerprint("POST", "/api/v1/orders/", with_key_field) == fingerprint
    assert len(fingerprint) == 64


def test_the_fingerprint_changes_with_the_method_the_path_the_query_or_the_body() -> None:
    fingerprint = request_fingerprint("POST", "/api/v1/orders/", BODY)
    others = {
        request_fingerprint("PUT", "/api/v1/orders/", BODY),
        request_fingerprint("POST", "/api/v1/orders/x/", BODY),
        request_fingerprint("POST", "/api/v1/orders/", BODY, [("dry_run", "1")]),
        request_fingerprint("POST", "/api/v1/orders/", {**BODY, "currency": "USD"}),
        request_fingerprint(
            "POST", "/api/v1/orders/", {**BODY, "items": [{"sku": "A", "unit_price": "12.5"}]}
        ),
    }
    assert fingerprint not in others
    assert len(others) == 5


def test_a_nested_idempotency_key_field_is_part_of_the_request() -> None:
    nested = {**BODY, "meta": {"idempotency_key": "x"}}
    assert request_fingerprint("POST", "/p/", nested) != request_fingerprint(
        "POST", "/p/", {**BODY, "meta": {}}
    )
