"""Payment and shipment sections in the order representation, fetched once per response."""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.orders import sections
from apps.orders.api.v1.serializers import OrderOutputSerializer
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.payments.commands import RequestPayment
from apps.payments.services import PaymentService
from apps.shipping.commands import CreateShipment
from apps.shipping.services import ShippingService

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system()


def render_page(order_ids: list[Any]) -> tuple[list[Any], int]:
    orders = Order.objects.filter(id__in=order_ids).prefetch_related("items")
    with CaptureQueriesContext(connection) as captured:
        data = OrderOutputSerializer(orders, many=True).data
    return list(data), len(captured)


def test_both_apps_registered_their_section() -> None:
    assert sections.registered_names() == ["payment", "refunds", "shipment"]


def test_a_page_costs_one_query_per_provider_whatever_its_size(customer: Any) -> None:
    small = [create_order(customer) for _ in range(2)]
    large = small + [create_order(customer) for _ in range(18)]
    for order in large:
        PaymentService().request_payment(RequestPayment(order_id=order.id, actor=SYSTEM))
    _, few = render_page([o.id for o in small])
    rendered, many = render_page([o.id for o in large])
    assert few == many
    assert all(row["payment"]["status"] == "requested" for row in rendered)


def test_each_order_shows_its_own_payment_and_shipment_or_null(customer: Any) -> None:
    shipped = move_to(create_order(customer, shipping_method="express"), OrderState.PAID)
    ShippingService().create_shipment(CreateShipment(order_id=shipped.id, actor=SYSTEM))
    untouched = create_order(customer)
    rendered, _ = render_page([shipped.id, untouched.id])
    by_id = {row["id"]: row for row in rendered}
    assert by_id[str(shipped.id)]["shipment"]["carrier"] == "UPS"
    assert by_id[str(shipped.id)]["payment"] is None  # paid outside the payments app
    assert by_id[str(untouched.id)]["shipment"] is None
    assert by_id[str(untouched.id)]["payment"] is None
