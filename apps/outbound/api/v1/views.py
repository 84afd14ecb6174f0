"""Staff endpoints of outbound webhooks: ``/api/v1/webhook-endpoints/``."""

from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.outbound import services
from apps.outbound.api.v1 import serializers as s
from apps.outbound.models import OutboundMessage, WebhookEndpoint
from shared.exceptions import NotFound
from shared.openapi import PROBLEM
from shared.pagination import StrictCursorPagination, page_of, paginated

STAFF_ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM}


class EndpointPagination(StrictCursorPagination):
    ordering = ("-created_at",)
    page_size = 50


class MessagePagination(StrictCursorPagination):
    ordering = ("-id",)
    page_size = 50


class EndpointListView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_list",
        parameters=EndpointPagination.parameters(),
        responses={200: page_of(s.WebhookEndpointSerializer), **STAFF_ERRORS},
        summary="Registered webhook endpoints (staff)",
    )
    def get(self, request: Request) -> Response:
        return paginated(
            EndpointPagination(),
            WebhookEndpoint.objects.all(),
            s.WebhookEndpointSerializer,
            request,
            self,
        )

    @extend_schema(
        operation_id="webhook_endpoints_create",
        request=s.EndpointInputSerializer,
        responses={201: s.WebhookEndpointWithSecretSerializer, 422: PROBLEM, **STAFF_ERRORS},
        summary="Register an endpoint (staff); its signing secret is in this answer only",
    )
    def post(self, request: Request) -> Response:
        given = s.EndpointInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        registered = services.register(**given.validated_data)
        body = s.WebhookEndpointSerializer(registered.endpoint).data
        return Response({**body, "secret": registered.secret}, status=201)


class EndpointDetailView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_retrieve",
        responses={200: s.WebhookEndpointSerializer, 404: PROBLEM, **STAFF_ERRORS},
        summary="One endpoint (staff)",
    )
    def get(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        return Response(s.WebhookEndpointSerializer(services.endpoint(endpoint_id)).data)

    @extend_schema(
        operation_id="webhook_endpoints_partial_update",
        request=s.EndpointChangeInputSerializer,
        responses={200: s.WebhookEndpointSerializer, 404: PROBLEM, 422: PROBLEM, **STAFF_ERRORS},
        summary="Change an endpoint, disable or enable it (staff)",
    )
    def patch(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        given = s.EndpointChangeInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        changed = services.change(endpoint_id, **given.validated_data)
        return Response(s.WebhookEndpointSerializer(changed).data)

    @extend_schema(
        operation_id="webhook_endpoints_destroy",
        responses={204: None, 404: PROBLEM, **STAFF_ERRORS},
        summary="Delete an endpoint and its messages (staff)",
    )
    def delete(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        services.endpoint(endpoint_id).delete()
        return Response(status=204)


class RotateSecretView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_rotate_secret",
        request=s.RotateSecretInputSerializer,
        responses={200: s.WebhookEndpointWithSecretSerializer, 404: PROBLEM, **STAFF_ERRORS},
        summary="A new signing secret; the old one keeps signing for an overlap (staff)",
    )
    def post(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        given = s.RotateSecretInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        rotated = services.rotate_secret(
            endpoint_id, overlap_seconds=given.validated_data.get("overlap_seconds")
        )
        body = s.WebhookEndpointSerializer(rotated.endpoint).data
        return Response({**body, "secret": rotated.secret})


class ReplayView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_replay",
        request=s.ReplayInputSerializer,
        responses={200: s.ReplayOutcomeSerializer, 404: PROBLEM, 422: PROBLEM, **STAFF_ERRORS},
        summary="Resend every event after a position, or since a time, in order (staff)",
        description="Give exactly one of `after_position` and `since` (else 422).",
    )
    def post(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        given = s.ReplayInputSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        wanted = given.validated_data
        scheduled = services.replay(
            endpoint_id,
            after_position=wanted.get("after_position"),
            since=services.moment_of(wanted["since"]) if "since" in wanted else None,
        )
        return Response({"scheduled": scheduled})


class MessageListView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_messages_list",
        parameters=[s.MessageFilterSerializer, *MessagePagination.parameters()],
        responses={200: page_of(s.OutboundMessageSerializer), 404: PROBLEM, **STAFF_ERRORS},
        summary="An endpoint's messages, newest first (staff)",
    )
    def get(self, request: Request, endpoint_id: uuid.UUID) -> Response:
        found = services.endpoint(endpoint_id)
        filters = s.MessageFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        messages = OutboundMessage.objects.filter(endpoint=found, **filters.validated_data)
        return paginated(MessagePagination(), messages, s.OutboundMessageSerializer, request, self)


class MessageDetailView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_messages_retrieve",
        responses={200: s.OutboundMessageDetailSerializer, 404: PROBLEM, **STAFF_ERRORS},
        summary="One message with the log of its attempts (staff)",
    )
    def get(self, request: Request, endpoint_id: uuid.UUID, message_id: int) -> Response:
        message = (
            OutboundMessage.objects.prefetch_related("delivery_attempts")
            .filter(id=message_id, endpoint_id=endpoint_id)
            .first()
        )
        if message is None:
            raise NotFound(f"Message {message_id} of endpoint {endpoint_id} does not exist.")
        return Response(s.OutboundMessageDetailSerializer(message).data)


class RedeliverView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="webhook_endpoints_messages_redeliver",
        request=None,
        responses={200: s.OutboundMessageSerializer, 404: PROBLEM, **STAFF_ERRORS},
        summary="Send one message again now, with the same webhook-id (staff)",
    )
    def post(self, request: Request, endpoint_id: uuid.UUID, message_id: int) -> Response:
        message = services.redeliver(endpoint_id, message_id)
        return Response(s.OutboundMessageSerializer(message).data)
