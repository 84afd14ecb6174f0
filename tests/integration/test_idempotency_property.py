"""Property: whatever mix of fresh and retried requests arrives, each honoured key acts once.

Hypothesis draws sequences of order creations from two customers, with keys from a small pool (or
none), bodies that sometimes change and sometimes are invalid. A model of the semantics predicts
every answer; at the end the orders and events written must be exactly one per request without a
key plus one per distinct (customer, key) that was honoured.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from apps.events.models import StoredEvent
from apps.idempotency.models import IdempotencyRecord
from apps.orders.models import Order

pytestmark = pytest.mark.django_db

KEYS = ["k-1", "k-2", "k-3"]
INVALID = 2  # the variant index of a body the serializer rejects


def body(variant: int) -> dict[str, Any]:
    if variant == INVALID:
        return {"currency": "EUR", "items": []}
    return {
        "currency": "EUR",
        "items": [{"sku": "A", "name": "A", "quantity": variant + 1, "unit_price": "5.00"}],
    }


request_strategy = st.tuples(
    st.sampled_from([0, 1]),  # which customer
    st.none() | st.sampled_from(KEYS),  # key
    st.sampled_from([0, 0, 0, 1, INVALID]),  # body: mostly the same, sometimes changed or invalid
    st.booleans(),  # key in the header (True) or in the body field
)


class _Rollback(Exception):
    pass


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(requests=st.lists(request_strategy, min_size=1, max_size=12))
def test_orders_and_events_match_the_keys_honoured(
    customer_client: APIClient,
    other_client: APIClient,
    requests: list[tuple[int, str | None, int, bool]],
) -> None:
    clients = [customer_client, other_client]
    # (customer, key) → (variant, order id) of the request the key was honoured for.
    honoured: dict[tuple[int, str], tuple[int, str]] = {}
    without_key = 0
    try:
        with transaction.atomic():  # each example starts from the same empty database
            for who, key, variant, in_header in requests:
                payload = body(variant)
                headers: dict[str, Any] = {}
                if key is not None and in_header:
                    headers["HTTP_IDEMPOTENCY_KEY"] = key
                elif key is not None:
                    payload = {**payload, "idempotency_key": key}
                response = clients[who].post("/api/v1/orders/", payload, format="json", **headers)
                replayed = response.has_header("Idempotent-Replayed")

                earlier = honoured.get((who, key)) if key is not None else None
                if earlier is not None and earlier[0] != variant:
                    assert response.status_code == 422, response.content
                    assert response.json()["code"] == "idempotency_key_reused"
                elif earlier is not None:
                    assert response.status_code == 201
                    assert replayed
                    assert response.json()["id"] == earlier[1]
                elif variant == INVALID:
                    assert response.status_code == 400
                else:
                    assert response.status_code == 201, response.content
                    assert not replayed
                    if key is None:
                        without_key += 1
                    else:
                        honoured[(who, key)] = (variant, response.json()["id"])

            expected = without_key + len(honoured)
            assert Order.objects.count() == expected
            assert StoredEvent.objects.count() == expected
            assert IdempotencyRecord.objects.count() == len(honoured)
            raise _Rollback
    except _Rollback:
        pass
