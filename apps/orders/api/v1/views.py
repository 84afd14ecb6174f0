"""The v1 order endpoints: serializer in → command → service → serializer out."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.idempotency.decorators import idempotent
from apps.idempotency.keys import idempotency_key_of
from apps.orders import queries
from apps.orders.api.v1 import read_views
from apps.orders.api.v1 import serializers as s
from apps.orders.api.v1.http import (
    OrderCommandView,
    actor_of,
    customer_id_of,
    expected_version_of,
    order_response,
    permission_to,
)
from apps.orders.commands import (
    CancelOrder,
    CreateOrder,
    NewOrderLine,
    StartProcessing,
)
from apps.orders.services import OrderService
from shared.openapi import IF_MATCH, PROBLEM
from shared.pagination import StrictCursorPagination, page_of, paginated

COMMAND_ERRORS = {400: PROBLEM, 401: PROBLEM, 404: PROBLEM, 409: PROBLEM}

service = OrderService()


class OrderListCreateView(APIView):
    permission_classes = (IsAuthenticated,)

    @read_views.LIST_SCHEMA
    def get(self, request: Request) -> Response:
        return read_views.list_orders(request, self)

    @idempotent
    @extend_schema(
        operation_id="orders_create",
        request=s.CreateOrderInputSerializer,
        responses={201: s.OrderOutputSerializer, 400: PROBLEM, 401: PROBLEM},
        summary="Create an order (its total is computed from the items)",
    )
    def post(self, request: Request) -> Response:
        data = s.CreateOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        order = service.create_order(
            CreateOrder(
                actor=actor_of(request),
                customer_id=customer_id_of(request),
                currency=body["currency"],
                items=tuple(NewOrderLine(**line) for line in body["items"]),
                payment_method=body["payment_method"],
                shipping_method=body["shipping_method"],
                idempotency_key=idempotency_key_of(request, body),
            )
        )
        response = order_response(
            order, status.HTTP_201_CREATED, viewer=actor_of(request), created=True
        )
        response["Location"] = f"/api/v1/orders/{order.id}/"
        return response


class OrderDetailView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="orders_retrieve",
        responses={200: s.OrderOutputSerializer, 401: PROBLEM, 404: PROBLEM},
        summary="Show one order",
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        order = queries.get_order_for(request.user, order_id)
        return order_response(order, viewer=actor_of(request))


class OrderCancelView(OrderCommandView):
    permission_classes = (permission_to("cancel"),)

    @idempotent
    @extend_schema(
        operation_id="orders_cancel",
        request=s.CancelOrderInputSerializer,
        parameters=[IF_MATCH],
        responses={200: s.OrderOutputSerializer, **COMMAND_ERRORS},
        summary="Cancel a pending or paid order",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        # Visibility first: another customer's order is 404 whatever the body says.
        queries.ensure_visible(request.user, order_id)
        data = s.CancelOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        body = data.validated_data
        order = service.cancel_order(
            CancelOrder(
                actor=actor_of(request),
                order_id=order_id,
                reason=body["reason"],
                idempotency_key=idempotency_key_of(request, body),
                expected_version=expected_version_of(request),
            )
        )
        return order_response(order, viewer=actor_of(request))


class OrderProcessView(OrderCommandView):
    permission_classes = (permission_to("process"),)

    @idempotent
    @extend_schema(
        operation_id="orders_process",
        request=s.EmptyInputSerializer,
        parameters=[IF_MATCH],
        responses={200: s.OrderOutputSerializer, 403: PROBLEM, **COMMAND_ERRORS},
        summary="Start processing a paid order (staff)",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        queries.ensure_visible(request.user, order_id)
        data = s.EmptyInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        order = service.start_processing(
            StartProcessing(
                actor=actor_of(request),
                order_id=order_id,
                idempotency_key=idempotency_key_of(request, data.validated_data),
                expected_version=expected_version_of(request),
            )
        )
        return order_response(order, viewer=actor_of(request))


class TimelinePagination(StrictCursorPagination):
    ordering = ("sequence",)
    page_size = 200
    max_page_size = 1000


class OrderEventsView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="orders_events",
        parameters=[s.TimelineFilterSerializer, *TimelinePagination.parameters()],
        responses={200: page_of(s.EventOutputSerializer), 400: PROBLEM, 404: PROBLEM},
        summary="The order's timeline: its events and its payment's and shipment's, in log order",
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        queries.ensure_visible(request.user, order_id)
        filters = s.TimelineFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        events = queries.order_timeline(order_id, filters.validated_data.get("aggregate_type"))
        return paginated(TimelinePagination(), events, s.EventOutputSerializer, request, self)


class HistoryPagination(StrictCursorPagination):
    ordering = ("sequence",)
    page_size = 200
    max_page_size = 1000


class OrderHistoryView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="orders_history",
        parameters=HistoryPagination.parameters(),
        responses={200: page_of(s.HistoryEntryOutputSerializer), 400: PROBLEM, 404: PROBLEM},
        summary="The order's state changes, oldest first",
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        queries.ensure_visible(request.user, order_id)
        changes = queries.order_state_changes(order_id)
        return paginated(
            HistoryPagination(), changes, s.HistoryEntryOutputSerializer, request, self
        )
