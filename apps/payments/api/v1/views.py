"""``POST /api/v1/orders/{id}/pay/``: submit the order's payment through its strategy;
``/api/v1/orders/{id}/refunds/``: its refunds, and staff giving money back.

Routed from ``core/urls.py`` under the orders prefix, because orders may not import payments.
"""

from __future__ import annotations

import uuid

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.idempotency.decorators import idempotent
from apps.idempotency.keys import idempotency_key_of
from apps.orders.api.v1.http import actor_of, ensure_may_issue, permission_to
from apps.orders.queries import ensure_visible
from apps.payments.api.v1 import serializers as s
from apps.payments.commands import RefundLine, RequestRefund, SubmitPayment
from apps.payments.queries import refunds_of
from apps.payments.sections import refund_entry
from apps.payments.services import PaymentService
from shared.openapi import PROBLEM

service = PaymentService()


class OrderPayView(APIView):
    permission_classes = (permission_to("pay"),)

    @idempotent
    @extend_schema(
        operation_id="orders_pay",
        request=s.PayOrderInputSerializer,
        responses={
            202: OpenApiResponse(
                s.PaymentOutputSerializer,
                description=(
                    "The provider has the payment; the outcome arrives later. card: `submitted`; "
                    "wallet: `approval_url` to send the customer to; bank_transfer: "
                    "`instructions` and `expires_at`."
                ),
            ),
            400: PROBLEM,
            401: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
        },
        summary="Pay a pending order through its payment method (answered asynchronously)",
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        # Visibility first: another customer's order is 404 whatever the body says.
        ensure_visible(request.user, order_id)
        data = s.PayOrderInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        payment = service.submit_payment(
            SubmitPayment(
                order_id=order_id,
                actor=actor_of(request),
                idempotency_key=idempotency_key_of(request, data.validated_data),
            )
        )
        response = Response(
            s.PaymentOutputSerializer(payment).data, status=status.HTTP_202_ACCEPTED
        )
        response["Location"] = f"/api/v1/orders/{order_id}/"
        return response


class OrderRefundsView(APIView):
    """``/api/v1/orders/{id}/refunds/``: the order's refunds; staff give money back."""

    permission_classes = (IsAuthenticated,)

    @extend_schema(
        operation_id="orders_refunds_list",
        responses={200: s.RefundOutputSerializer(many=True), 401: PROBLEM, 404: PROBLEM},
        summary="The order's refunds, oldest first",
    )
    def get(self, request: Request, order_id: uuid.UUID) -> Response:
        ensure_visible(request.user, order_id)
        return Response(refunds_of(order_id))

    @idempotent
    @extend_schema(
        operation_id="orders_refunds_create",
        request=s.REFUND_REQUEST,
        responses={
            201: OpenApiResponse(
                s.RefundOutputSerializer,
                description=(
                    "The refund was asked of the provider: `requested` until it answers "
                    "(by webhook), or already `succeeded` / `failed`."
                ),
            ),
            400: PROBLEM,
            401: PROBLEM,
            403: PROBLEM,
            404: PROBLEM,
            409: PROBLEM,
        },
        summary="Give money back: an amount, or lines with quantities (staff)",
        description=(
            "Never more than the payment captured, less what was refunded and what is being "
            "refunded: beyond that the answer is 409 `refund_exceeds_captured` with "
            "`refundable` (or `refundable_quantity` for a line), and nothing is written. "
            "409 `refund_not_possible`: the order has no captured payment. The order's state "
            "does not change; its `refunded_total` grows when the provider confirms."
        ),
    )
    def post(self, request: Request, order_id: uuid.UUID) -> Response:
        ensure_visible(request.user, order_id)
        ensure_may_issue("refund", request)
        data = s.RefundInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        refund = service.request_refund(
            RequestRefund(
                order_id=order_id,
                actor=actor_of(request),
                amount=values.get("amount"),
                lines=tuple(
                    RefundLine(sku=line["sku"], quantity=line["quantity"])
                    for line in values.get("lines", ())
                ),
                reason=values["reason"],
                idempotency_key=idempotency_key_of(request, values),
            )
        )
        response = Response(refund_entry(refund), status=status.HTTP_201_CREATED)
        response["Location"] = f"/api/v1/orders/{order_id}/refunds/"
        return response
