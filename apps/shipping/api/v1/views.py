"""Staff endpoints that move an order's shipment: ``ship`` and ``deliver``.

Routed from ``core/urls.py`` under the orders prefix, because orders may not import shipping. They
answer with the order, like the other order commands.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.request import Request
from rest_framework.response import Response

from apps.idempotency.decorators import idempotent
from apps.idempotency.keys import idempotency_key_of
from apps.orders.api.v1.http import (
    OrderCommandView,
    actor_of,
    expected_version_of,
    order_response,
    permission_to,
)
from apps.orders.api.v1.serializers import OrderOutputSerializer
from apps.orders.queries import ensure_visible
from apps.shipping.api.v1 import serializers as s
from apps.shipping.commands import RecordDelivered, ShipOrder
from apps.shipping.services import ShippingService
from shared.openapi import IF_MATCH, PROBLEM

STAFF_COMMAND_ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM, 404: PROBLEM, 409: PROBLEM}

service = ShippingService()


class OrderShipView(OrderCommandView):
    permission_classes = (permission_to("ship"),)

    @idempotent
    @extend_schema(
        operation_id="orders_ship",
        request=s.ShipOrderInputSerializer,
        parameters=[IF_MATCH],
        responses={200: OrderOutputSerializer, **STAFF_COMMAND_ERRORS},
        summary="Hand a processing order to its shipment's carrier (staff); body optional",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        ensure_visible(request.user, order_id)
        data = s.ShipOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        order = service.ship(
            ShipOrder(
                order_id=order_id,
                actor=actor_of(request),
                tracking_number=body.get("tracking_number"),
                carrier=body.get("carrier"),
                idempotency_key=idempotency_key_of(request, body),
                expected_version=expected_version_of(request),
            )
        )
        return order_response(order, viewer=actor_of(request))


class OrderDeliverView(OrderCommandView):
    permission_classes = (permission_to("deliver"),)

    @idempotent
    @extend_schema(
        operation_id="orders_deliver",
        request=s.DeliverOrderInputSerializer,
        parameters=[IF_MATCH],
        responses={200: OrderOutputSerializer, **STAFF_COMMAND_ERRORS},
        summary="Mark a shipped order as delivered (staff)",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        ensure_visible(request.user, order_id)
        data = s.DeliverOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = service.record_delivered(
            RecordDelivered(
                order_id=order_id,
                actor=actor_of(request),
                idempotency_key=idempotency_key_of(request, data.validated_data),
                expected_version=expected_version_of(request),
            )
        )
        return order_response(order, viewer=actor_of(request))
