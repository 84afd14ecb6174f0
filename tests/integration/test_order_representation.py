"""The order's representation written out by hand (``order_payload``) is the one its serializer
(the OpenAPI schema's ``Order``) declares, for orders in every state, loaded every way."""

from __future__ import annotations

import json
from typing import Any

import pytest
from rest_framework.utils.encoders import JSONEncoder

from apps.orders import queries
from apps.orders.api.v1.serializers import OrderOutputSerializer, order_payload
from apps.orders.commands import Actor
from apps.orders.models import Order
from apps.orders.state_machine import OrderState
from apps.orders.tests.factories import create_order, move_to
from apps.payments.commands import RequestPayment
from apps.payments.services import PaymentService
from apps.shipping.commands import CreateShipment

pytestmark = pytest.mark.django_db(transaction=True)


def as_json(data: Any) -> Any:
    return json.loads(json.dumps(data, cls=JSONEncoder))


@pytest.mark.parametrize(
    "target",
    [
        OrderState.PENDING,
        OrderState.PAID,
        OrderState.PROCESSING,
        OrderState.SHIPPED,
        OrderState.DELIVERED,
        OrderState.CANCELLED,
        OrderState.FAILED,
    ],
)
def test_the_hand_written_representation_is_the_serializers(customer: Any, target: Any) -> None:
    order = create_order(customer, items=3, currency="JPY" if target == "FAILED" else "EUR")
    PaymentService().request_payment(RequestPayment(order_id=order.id, actor=Actor.system()))
    move_to(order, target)
    carried = queries.get_order_for(customer, order.id)
    plain = Order.objects.prefetch_related("items").get(id=order.id)
    expected = as_json(OrderOutputSerializer(plain).data)
    assert expected["state"] == Order.objects.get(id=order.id).state
    assert expected["payment"] is not None
    assert as_json(order_payload(carried)) == expected
    assert as_json(order_payload(plain)) == expected
    assert as_json(OrderOutputSerializer(carried).data) == expected


def test_the_hand_written_list_row_is_the_serializers(customer: Any) -> None:
    from apps.orders.api.v1.read_views import OrderSummaryOutputSerializer, summary_payload
    from apps.orders.models import OrderSummary
    from apps.shipping.services import ShippingService

    for target in (OrderState.PENDING, OrderState.DELIVERED, OrderState.CANCELLED):
        move_to(create_order(customer, items=2, shipping_method="express"), target)
    failed = create_order(customer, currency="JPY")
    move_to(failed, OrderState.FAILED)
    shipped = move_to(create_order(customer), OrderState.PAID)
    ShippingService().create_shipment(CreateShipment(order_id=shipped.id, actor=Actor.system()))
    rows = list(OrderSummary.objects.all())
    assert len(rows) == 5
    assert {row.state for row in rows} >= {"PENDING", "DELIVERED", "CANCELLED", "FAILED"}
    assert any(row.paid_at and row.delivered_at for row in rows)
    expected = as_json(OrderSummaryOutputSerializer(rows, many=True).data)
    assert as_json([summary_payload(row) for row in rows]) == expected
