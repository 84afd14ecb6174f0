"""What the console's pages read: the read models and registries the API reads, each page in a
number of queries that does not grow with the orders or events."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Case, Count, QuerySet, Value, When
from django.db.models.functions import TruncMinute

from apps.events.base import payload_in_one_form
from apps.events.models import ParkedEvent, ParkedStatus
from apps.orders.models import OrderSummary
from apps.orders.queries import order_timeline
from apps.orders.statistics import nearest_rank, order_statistics
from apps.recovery.models import StuckOrder
from apps.recovery.services import waiting_orders
from apps.webhooks.models import WebhookLog, WebhookOutcome
from shared import clock

FUNNEL = ("PENDING", "PAID", "PROCESSING", "SHIPPED", "DELIVERED")
ENDED_ASIDE = ("CANCELLED", "FAILED")


@dataclass(frozen=True)
class Percentiles:
    count: int
    p50_seconds: float | None
    p95_seconds: float | None


def _percentiles(column: str) -> Percentiles:
    """Nearest-rank p50 and p95 of a duration column of the order summary (indexed)."""
    measured = OrderSummary.objects.filter(**{f"{column}__isnull": False})
    count = measured.count()
    if not count:
        return Percentiles(0, None, None)
    p50, p95 = (nearest_rank(measured, column, share, count) / 1000 for share in (0.5, 0.95))
    return Percentiles(count, round(p50, 3), round(p95, 3))


def _per_minute(column: str, since: datetime) -> dict[datetime, int]:
    rows = (
        OrderSummary.objects.filter(**{f"{column}__gte": since})
        .annotate(minute=TruncMinute(column))
        .values("minute")
        .annotate(number=Count("order_id"))
        .order_by()
    )
    return {row["minute"]: row["number"] for row in rows}


def flow(now: datetime | None = None) -> dict[str, Any]:
    """Orders per state (the API's statistics), orders created, paid and delivered per minute
    over the last hour, and the time to payment and to delivery."""
    moment = (now or clock.now()).replace(second=0, microsecond=0)
    since = moment - timedelta(minutes=59)
    stats = order_statistics()
    per_state: dict[str, int] = stats["orders_per_state"]
    series = {
        name: _per_minute(column, since)
        for name, column in (
            ("created", "created_at"),
            ("paid", "paid_at"),
            ("delivered", "delivered_at"),
        )
    }
    minutes = [since + timedelta(minutes=i) for i in range(60)]
    rows: list[dict[str, Any]] = []
    peak = 1
    for minute in minutes:
        numbers = {name: counts.get(minute, 0) for name, counts in series.items()}
        peak = max(peak, *numbers.values())
        rows.append({"minute": minute, **numbers})
    widest = max([1, *per_state.values()])
    return {
        "funnel": [
            {
                "state": state,
                "count": per_state.get(state, 0),
                "width": 100 * per_state.get(state, 0) // widest,
            }
            for state in FUNNEL
        ],
        "aside": [{"state": state, "count": per_state.get(state, 0)} for state in ENDED_ASIDE],
        "minutes": rows,
        "peak": peak,
        "totals": {name: sum(counts.values()) for name, counts in series.items()},
        "to_payment": _percentiles("ms_to_payment"),
        "to_delivery": _percentiles("ms_payment_to_delivery"),
        "as_of_position": stats["as_of_position"],
    }


def failed_deliveries(
    *, handler: str = "", event_type: str = "", limit: int = 100
) -> QuerySet[ParkedEvent]:
    """Parked and dead events, dead first then by position, with their event (one query)."""
    rows = ParkedEvent.objects.select_related("event").filter(
        status__in=(ParkedStatus.PARKED, ParkedStatus.DEAD)
    )
    if handler:
        rows = rows.filter(subscription=handler)
    if event_type:
        rows = rows.filter(event__event_type=event_type)
    dead_first = Case(When(status=ParkedStatus.DEAD, then=Value(0)), default=Value(1))
    return rows.order_by(dead_first, "position")[:limit]


def failed_filters() -> dict[str, list[str]]:
    """The handlers and event types that have parked or dead events (for the filters)."""
    pairs = (
        ParkedEvent.objects.filter(status__in=(ParkedStatus.PARKED, ParkedStatus.DEAD))
        .values_list("subscription", "event__event_type")
        .distinct()
    )
    handlers, types = set(), set()
    for handler, event_type in pairs:
        handlers.add(handler)
        types.add(event_type)
    return {"handlers": sorted(handlers), "event_types": sorted(types)}


def webhooks(*, outcome: str = "", provider: str = "", limit: int = 100) -> dict[str, Any]:
    """Outcome counts of the last 24 hours, and the latest messages (without their bodies)."""
    counts = dict(
        WebhookLog.objects.filter(received_at__gte=clock.now() - timedelta(hours=24))
        .values_list("outcome")
        .annotate(number=Count("id"))
        .order_by()
    )
    rows = WebhookLog.objects.defer("body", "headers")
    if outcome:
        rows = rows.filter(outcome=outcome)
    if provider:
        rows = rows.filter(provider=provider)
    return {
        "counts": [
            {"outcome": choice.value, "label": choice.label, "count": counts.get(choice.value, 0)}
            for choice in WebhookOutcome
        ],
        "rows": list(rows.order_by("-received_at", "-id")[:limit]),
    }


def timeline(order_id: uuid.UUID) -> list[dict[str, Any]]:
    """The order's events (its own, its payment's, its shipment's) and the webhooks received
    about it, in time order (two queries)."""
    entries: list[dict[str, Any]] = [
        {
            "at": event.occurred_at,
            "kind": "event",
            "what": event.event_type,
            "who": event.aggregate_type,
            "detail": payload_in_one_form(event.event_type, event.payload),
        }
        for event in order_timeline(order_id)
    ]
    entries += [
        {
            "at": log.received_at,
            "kind": "webhook",
            "what": log.message_type or "(unreadable)",
            "who": log.provider,
            "detail": {"outcome": log.outcome, "error": log.error[:300]},
        }
        for log in WebhookLog.objects.filter(order_id=order_id).order_by("received_at", "id")
    ]
    return sorted(entries, key=lambda entry: entry["at"])


def stuck_orders(now: datetime | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Orders waiting past their deadline (``OMS_STUCK_*``), read now, with what recovery tried
    for each (one query per rule and one for the recovery rows)."""
    moment = now or clock.now()
    waiting = waiting_orders(moment, limit)
    tried = StuckOrder.objects.filter(resolved_at__isnull=True).in_bulk(
        [order.order_id for order, _ in waiting]
    )
    return [
        {
            "order_id": order.order_id,
            "state": order.state,
            "reason": rule.reason.label,
            "since": order.since,
            "waiting_minutes": int((moment - order.since).total_seconds() // 60),
            "attempts": tried[order.order_id].attempts if order.order_id in tried else 0,
            "last_outcome": tried[order.order_id].last_outcome if order.order_id in tried else "",
        }
        for order, rule in sorted(waiting, key=lambda pair: pair[0].since)
    ][:limit]
