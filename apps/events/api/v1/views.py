"""Staff endpoints of the event machinery: the global event stream, the subscriptions' lag and
the dead letters."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.events import dead_letters, lag, store
from apps.events.api.v1 import serializers as s
from apps.events.models import ParkedEvent, ParkedStatus
from shared.exceptions import NotFound
from shared.openapi import PROBLEM
from shared.pagination import (
    StrictCursorPagination,
    page_of,
    page_size_of,
    page_size_parameter,
    paginated,
)

STAFF_ERRORS = {400: PROBLEM, 401: PROBLEM, 403: PROBLEM}


STREAM_PAGE_SIZE = 100
STREAM_MAX_PAGE_SIZE = 1000


class EventStreamView(APIView):
    """The global event log in commit order. Poll with ``after`` = the last ``next_after``."""

    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="events_list",
        parameters=[
            s.EventStreamFilterSerializer,
            page_size_parameter(default=STREAM_PAGE_SIZE, maximum=STREAM_MAX_PAGE_SIZE),
        ],
        responses={200: s.EventStreamPageSerializer, **STAFF_ERRORS},
        summary="The global event stream in commit order (staff)",
        description="Events in the order their transactions committed. Store `next_after` and "
        "ask for `after=<next_after>` next: no event that commits later can appear before it, "
        "so a consumer that follows this never misses one and never needs to re-read.",
    )
    def get(self, request: Request) -> Response:
        filters = s.EventStreamFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        size = page_size_of(request, default=STREAM_PAGE_SIZE, maximum=STREAM_MAX_PAGE_SIZE)
        after = wanted.get("after", 0)
        events = store.committed_after(after)
        for name in ("event_type", "aggregate_id", "aggregate_type"):
            if name in wanted:
                events = events.filter(**{name: wanted[name]})
        page = list(events[: size + 1])
        has_more = len(page) > size
        page = page[:size]
        next_after = page[-1].position if page else after
        next_url = None
        if has_more:
            query = request.query_params.copy()
            query["after"] = str(next_after)
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        return Response(
            {
                "next": next_url,
                "previous": None,
                "next_after": next_after,
                "results": s.StoredEventOutputSerializer(page, many=True).data,
                "has_more": has_more,
            }
        )


class DeadLetterPagination(StrictCursorPagination):
    ordering = ("-id",)
    page_size = 50


class DeadLetterListView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="dead_letters_list",
        parameters=[s.DeadLetterFilterSerializer, *DeadLetterPagination.parameters()],
        responses={200: page_of(s.DeadLetterOutputSerializer), **STAFF_ERRORS},
        summary="Events a subscription failed on after every retry (staff)",
    )
    def get(self, request: Request) -> Response:
        filters = s.DeadLetterFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        dead = ParkedEvent.objects.select_related("event").filter(status=ParkedStatus.DEAD)
        if handler := filters.validated_data.get("handler"):
            dead = dead.filter(subscription=handler)
        if event_type := filters.validated_data.get("event_type"):
            dead = dead.filter(event__event_type=event_type)
        return paginated(DeadLetterPagination(), dead, s.DeadLetterOutputSerializer, request, self)


class DeadLetterRetryView(APIView):
    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="dead_letters_retry",
        request=None,
        responses={200: s.RetryOutcomeSerializer, 404: PROBLEM, **STAFF_ERRORS},
        summary="Run a dead event once more, now (staff; a second call does not re-run it)",
    )
    def post(self, request: Request, delivery_id: int) -> Response:
        if not ParkedEvent.objects.filter(id=delivery_id).exists():
            raise NotFound(f"Dead letter {delivery_id} does not exist.")
        outcome = dead_letters.retry_dead(delivery_id)
        parked = ParkedEvent.objects.select_related("event").get(id=delivery_id)
        return Response(
            {"outcome": str(outcome), "delivery": s.DeadLetterOutputSerializer(parked).data}
        )


class SubscriptionListView(APIView):
    """Where each subscription's segments stand: position, backlog, parked and dead events."""

    permission_classes = (IsAdminUser,)

    @extend_schema(
        operation_id="subscriptions_list",
        responses={200: s.SubscriptionsSerializer, **STAFF_ERRORS},
        summary="Subscriptions' positions, lag, parked and dead counts (staff)",
    )
    def get(self, request: Request) -> Response:
        head = store.head_position()
        rows = [vars(row) for row in lag.status()]
        return Response(s.SubscriptionsSerializer({"head": head, "segments": rows}).data)
