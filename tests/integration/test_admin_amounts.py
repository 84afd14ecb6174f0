"""The admin shows amounts with their currency's decimals, not the column's four."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from apps.payments.models import Payment
from apps.shipping.models import Shipment

pytestmark = pytest.mark.django_db(transaction=True)


def test_order_payment_and_shipment_pages_show_amounts_in_their_currency(
    customer_client: Any, staff_client: Any, staff: Any
) -> None:
    staff.is_superuser = True  # the admin's model permissions
    staff.save()
    body = {
        "currency": "JPY",
        "items": [{"sku": "TEA-1", "name": "Tea", "quantity": 2, "unit_price": "1250"}],
    }
    order_id = customer_client.post("/api/v1/orders/", body, format="json").json()["id"]
    assert staff_client.post(f"/api/v1/orders/{order_id}/pay/").status_code == 202
    payment = Payment.objects.get(order_id=order_id)
    browser = Client()
    browser.force_login(staff)
    pages = {
        "order": browser.get(f"/admin/orders/order/{order_id}/change/"),
        "orders": browser.get("/admin/orders/order/"),
        "payment": browser.get(f"/admin/payments/payment/{payment.id}/change/"),
        "payments": browser.get("/admin/payments/payment/"),
    }
    for name, page in pages.items():
        text = page.content.decode()
        assert page.status_code == 200, name
        assert "2500 JPY" in text or "1250" in text, name
        assert "2500.0000" not in text, name
        assert "1250.0000" not in text, name
    assert "2500 JPY" in pages["payment"].content.decode()
    assert Shipment.objects.count() == 0  # shipments are covered by the same admin base
