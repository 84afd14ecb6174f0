"""``POST /api/v1/orders/{id}/pay/``: submit the order's payment through its strategy.

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
from apps.orders.api.v1.http import actor_of
from apps.orders.queries import ensure_visible
from apps.payments.api.v1 import serializers as s
from apps.payments.commands import SubmitPayment
from apps.payments.services import PaymentService
from shared.openapi import PROBLEM

service = PaymentService()


class OrderPayView(APIView):
    permission_classes = (IsAuthenticated,)

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
