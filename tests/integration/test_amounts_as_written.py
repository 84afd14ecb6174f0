"""One money rule for every amount that comes in (``Money.parse``): an amount is judged as it is
WRITTEN. "30.400" EUR is worth 30.40, but three places for euros is refused, on order create
(``unit_price``) and on a refund of an amount alike: a 422 ``invalid_amount`` that writes nothing.
(Webhooks keep the same rule as a 400 naming the field: ``apps/webhooks/tests``.)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from apps.orders.models import OrderItem
from apps.payments.models import Refund
from apps.payments.tests.helpers import paid_order
from tests.support.rows import rows_written

pytestmark = pytest.mark.django_db


def create(client: APIClient, unit_price: str, currency: str) -> Any:
    line = {"sku": "BOOK-1", "name": "A book", "quantity": 2, "unit_price": unit_price}
    body = {"currency": currency, "items": [line]}
    return client.post("/api/v1/orders/", body, format="json")


def assert_invalid_amount(response: Any) -> None:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["code"] == "invalid_amount"


@pytest.mark.parametrize(
    ("unit_price", "currency"),
    [("30.400", "EUR"), ("5.0", "JPY"), ("100.00", "KRW"), ("12.501", "EUR")],
    ids=["eur-three-places", "jpy-one-place", "krw-two-places", "eur-value-off"],
)
def test_a_unit_price_written_with_too_many_places_is_422_and_writes_nothing(
    customer_client: APIClient, unit_price: str, currency: str
) -> None:
    before = rows_written()
    assert_invalid_amount(create(customer_client, unit_price, currency))
    assert rows_written() == before


@pytest.mark.parametrize(
    ("unit_price", "currency", "stored"),
    [
        ("12.50", "EUR", "12.50"),
        ("12.5", "EUR", "12.50"),
        ("5", "JPY", "5"),
        ("7.650", "KWD", "7.650"),
    ],
)
def test_a_unit_price_within_the_currencys_places_is_accepted(
    customer_client: APIClient, unit_price: str, currency: str, stored: str
) -> None:
    response = create(customer_client, unit_price, currency)
    assert response.status_code == 201, response.content
    assert response.json()["items"][0]["unit_price"] == stored
    assert OrderItem.objects.get().unit_price == Decimal(stored)


def test_a_refund_amount_written_with_too_many_places_is_422_and_writes_nothing(
    staff_client: APIClient, customer: Any
) -> None:
    order, _ = paid_order(customer)
    before = rows_written()
    response = staff_client.post(
        f"/api/v1/orders/{order.id}/refunds/", {"amount": "5.400"}, format="json"
    )
    assert_invalid_amount(response)
    assert rows_written() == before


def test_a_refund_amount_within_the_currencys_places_is_requested(
    staff_client: APIClient, customer: Any
) -> None:
    order, _ = paid_order(customer)
    response = staff_client.post(
        f"/api/v1/orders/{order.id}/refunds/", {"amount": "5.4"}, format="json"
    )
    assert response.status_code in (200, 201, 202), response.content
    assert Refund.objects.get().amount == Decimal("5.40")
