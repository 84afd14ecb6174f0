"""Query endpoints of orders: they read the projections, never the event log."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_serializer
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.orders import queries
from apps.orders.models import OrderSummary
from apps.orders.state_machine import OrderState, allowed_transitions
from apps.orders.statistics import order_statistics
from shared.money import format_amount
from shared.openapi import PROBLEM
from shared.pagination import StrictCursorPagination, page_of, paginated
from shared.timestamps import optional_utc_text


class DurationStatsSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Orders measured.")
    mean_seconds = serializers.FloatField(allow_null=True)
    p95_seconds = serializers.FloatField(allow_null=True, help_text="Nearest rank.")


class RevenueDaySerializer(serializers.Serializer):
    day = serializers.DateField(help_text="The day of payment (UTC).")
    currency = serializers.CharField()
    paid_orders = serializers.IntegerField()
    amount = serializers.CharField()


class RevenueSerializer(serializers.Serializer):
    per_currency = serializers.DictField(
        child=serializers.CharField(), help_text="Paid revenue by currency code."
    )
    per_day = RevenueDaySerializer(many=True)


class OrdersPerStateSerializer(serializers.Serializer):
    def get_fields(self) -> dict[str, serializers.Field]:
        return {state.value: serializers.IntegerField() for state in OrderState}


# v1 changes only by adding: ``as_of_sequence`` was renamed ``as_of_position`` and stays, with
# the same value, for the clients that read it.
@extend_schema_serializer(deprecate_fields=["as_of_sequence"])
class OrderStatisticsSerializer(serializers.Serializer):
    as_of_position = serializers.IntegerField(
        help_text="The last log position the numbers include."
    )
    as_of_sequence = serializers.IntegerField(
        help_text="Deprecated: the same value as `as_of_position`; read that instead."
    )
    generated_at = serializers.DateTimeField(help_text="When the numbers were computed.")
    max_age_seconds = serializers.IntegerField()
    cached = serializers.BooleanField()
    orders_per_state = OrdersPerStateSerializer()
    revenue = RevenueSerializer()
    time_to_payment = DurationStatsSerializer()
    time_from_payment_to_delivery = DurationStatsSerializer()


class OrderStatsView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="orders_stats",
        responses={
            200: OpenApiResponse(
                response=OrderStatisticsSerializer,
                description=(
                    "Orders per state, paid revenue per currency and per day, and the mean and "
                    "95th percentile (nearest rank) of the time from creation to payment and from "
                    "payment to delivery. Served from a cache dropped by every applied event and "
                    "never older than `max_age_seconds`; `as_of_position` is the last log "
                    "position the numbers include and `generated_at` when they were computed."
                ),
            ),
            401: PROBLEM,
            403: PROBLEM,
        },
        summary="Order statistics (staff)",
    )
    def get(self, request: Request) -> Response:
        stats: dict[str, Any] = order_statistics()
        return Response({**stats, "as_of_sequence": stats["as_of_position"]})


class OrderListFilterSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=[s.value for s in OrderState], required=False)
    created_after = serializers.DateTimeField(required=False, help_text="inclusive, ISO 8601")
    created_before = serializers.DateTimeField(required=False, help_text="exclusive, ISO 8601")


class OrderSummaryOutputSerializer(serializers.ModelSerializer):
    id = serializers.UUIDField(source="order_id")
    subtotal = serializers.SerializerMethodField()
    shipping_total = serializers.SerializerMethodField()
    total = serializers.SerializerMethodField()
    refunded_total = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="order_version")
    allowed_transitions = serializers.SerializerMethodField(
        help_text="The states the state machine lets the order move to next, whoever moves it."
    )
    payment_status = serializers.CharField(allow_blank=True)
    shipment_status = serializers.CharField(allow_blank=True)

    class Meta:
        model = OrderSummary
        fields = (
            "id",
            "customer_id",
            "state",
            "currency",
            "subtotal",
            "shipping_total",
            "total",
            "refunded_total",
            "item_count",
            "line_count",
            "payment_method",
            "shipping_method",
            "payment_status",
            "shipment_status",
            "carrier",
            "tracking_number",
            "version",
            "allowed_transitions",
            "created_at",
            "updated_at",
            "paid_at",
            "shipped_at",
            "delivered_at",
            "cancelled_at",
            "failed_at",
        )

    def get_subtotal(self, summary: OrderSummary) -> str:
        return format_amount(summary.subtotal, summary.currency)

    def get_shipping_total(self, summary: OrderSummary) -> str:
        return format_amount(summary.shipping_total, summary.currency)

    def get_total(self, summary: OrderSummary) -> str:
        return format_amount(summary.total, summary.currency)

    def get_refunded_total(self, summary: OrderSummary) -> str:
        return format_amount(summary.refunded_total, summary.currency)

    def get_allowed_transitions(self, summary: OrderSummary) -> list[str]:
        return sorted(state.value for state in allowed_transitions(summary.state))


class OrderSummaryPagination(StrictCursorPagination):
    # Served by the (customer_id, created_at, order_id) and (created_at, order_id) indexes, so a
    # page costs the same however many orders exist.
    ordering = ("-created_at", "-order_id")
    page_size = 50
    max_page_size = 200


LIST_SCHEMA = extend_schema(
    operation_id="orders_list",
    parameters=[OrderListFilterSerializer, *OrderSummaryPagination.parameters()],
    responses={200: page_of(OrderSummaryOutputSerializer), 400: PROBLEM, 401: PROBLEM},
    summary="List orders, newest first (a customer sees their own; staff see all)",
    description=(
        "Read from the order summary projection, which the command that changes an order "
        "updates in its own transaction: a list read after a command's response includes it."
    ),
)


def list_orders(request: Request, view: APIView) -> Response:
    # A plain dict, not the QueryDict: DRF reads an empty form value ("state=") as "not given",
    # which would list every order to a client that asked for a state it left empty.
    filters = OrderListFilterSerializer(data=request.query_params.dict())
    filters.is_valid(raise_exception=True)
    wanted = filters.validated_data
    summaries = queries.summaries_visible_to(request.user)
    if "state" in wanted:
        summaries = summaries.filter(state=wanted["state"])
    if "created_after" in wanted:
        summaries = summaries.filter(created_at__gte=wanted["created_after"])
    if "created_before" in wanted:
        summaries = summaries.filter(created_at__lt=wanted["created_before"])
    return paginated(
        OrderSummaryPagination(),
        summaries,
        OrderSummaryOutputSerializer,
        request,
        view,
        render=summary_payload,
    )


def summary_payload(summary: OrderSummary) -> dict[str, Any]:
    """One row of the list, as ``OrderSummaryOutputSerializer`` (the schema) declares it.

    Written out by hand: the serializer spends more on a page of fifty rows than the query does
    (test_read_api.py renders rows both ways and requires the same JSON).
    """

    return {
        "id": str(summary.order_id),
        "customer_id": summary.customer_id,
        "state": summary.state,
        "currency": summary.currency,
        "subtotal": format_amount(summary.subtotal, summary.currency),
        "shipping_total": format_amount(summary.shipping_total, summary.currency),
        "total": format_amount(summary.total, summary.currency),
        "refunded_total": format_amount(summary.refunded_total, summary.currency),
        "item_count": summary.item_count,
        "line_count": summary.line_count,
        "payment_method": summary.payment_method,
        "shipping_method": summary.shipping_method,
        "payment_status": summary.payment_status,
        "shipment_status": summary.shipment_status,
        "carrier": summary.carrier,
        "tracking_number": summary.tracking_number,
        "version": summary.order_version,
        "allowed_transitions": sorted(state.value for state in allowed_transitions(summary.state)),
        "created_at": optional_utc_text(summary.created_at),
        "updated_at": optional_utc_text(summary.updated_at),
        "paid_at": optional_utc_text(summary.paid_at),
        "shipped_at": optional_utc_text(summary.shipped_at),
        "delivered_at": optional_utc_text(summary.delivered_at),
        "cancelled_at": optional_utc_text(summary.cancelled_at),
        "failed_at": optional_utc_text(summary.failed_at),
    }
