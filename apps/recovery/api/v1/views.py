"""``GET /api/v1/stuck-orders/``: orders stuck past their deadline that recovery could not move
on (staff)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.recovery.models import StuckOrder, StuckReason
from shared.openapi import PROBLEM
from shared.pagination import StrictCursorPagination, page_of, paginated


class StuckOrderOutputSerializer(serializers.ModelSerializer):
    reason = serializers.ChoiceField(choices=StuckReason.choices)
    order_url = serializers.SerializerMethodField()

    class Meta:
        model = StuckOrder
        fields = (
            "order_id",
            "state",
            "reason",
            "since",
            "noticed_at",
            "attempts",
            "last_attempt_at",
            "last_outcome",
            "order_url",
        )

    def get_order_url(self, stuck: StuckOrder) -> str:
        return f"/api/v1/orders/{stuck.order_id}/"


class StuckOrderPagination(StrictCursorPagination):
    ordering = ("since", "order_id")
    page_size = 50


class StuckOrderListView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="stuck_orders_list",
        parameters=[*StuckOrderPagination.parameters()],
        responses={
            200: page_of(StuckOrderOutputSerializer),
            400: PROBLEM,
            401: PROBLEM,
            403: PROBLEM,
        },
        summary="Orders stuck past their deadline that recovery has not moved on (staff)",
    )
    def get(self, request: Request) -> Response:
        stuck = StuckOrder.objects.filter(resolved_at__isnull=True)
        return paginated(StuckOrderPagination(), stuck, StuckOrderOutputSerializer, request, self)
