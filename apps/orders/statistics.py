"""Order statistics, computed from the read models and cached.

The cache entry is dropped whenever the order summary projection applies an event (after its
commit), and expires after ``OMS_STATS_CACHE_SECONDS`` in any case, so an answer is never older
than that. Each answer says how fresh it is: the log position it includes (``as_of_position``;
projections are applied with the write, so every event up to it is in the numbers) and when it
was computed (``generated_at``).
"""

from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db.models import Avg, Count, Max, QuerySet, Sum

from apps.events.models import StoredEvent
from apps.orders.models import DailyRevenue, OrderSummary
from apps.orders.projections import STATS_CACHE_KEY
from apps.orders.state_machine import OrderState
from shared import clock
from shared.money import format_amount
from shared.timestamps import utc_text


def order_statistics() -> dict[str, Any]:
    """The statistics, from the cache when fresh enough."""
    cached: dict[str, Any] | None = cache.get(STATS_CACHE_KEY)
    if cached is not None:
        return {**cached, "cached": True}
    # Read the head first: the rows read after it include at least every event up to it.
    as_of = StoredEvent.objects.aggregate(head=Max("position"))["head"] or 0
    stats = {
        "as_of_position": as_of,
        "generated_at": utc_text(clock.now()),
        "max_age_seconds": settings.OMS_STATS_CACHE_SECONDS,
        "orders_per_state": _orders_per_state(),
        "revenue": _revenue(),
        "time_to_payment": _duration_stats("ms_to_payment"),
        "time_from_payment_to_delivery": _duration_stats("ms_payment_to_delivery"),
    }
    cache.set(STATS_CACHE_KEY, stats, timeout=settings.OMS_STATS_CACHE_SECONDS)
    return {**stats, "cached": False}


def _orders_per_state() -> dict[str, int]:
    counts = {state.value: 0 for state in OrderState}
    for row in OrderSummary.objects.values("state").annotate(n=Count("order_id")).order_by():
        counts[row["state"]] = row["n"]
    return counts


def _revenue() -> dict[str, Any]:
    per_currency: dict[str, Decimal] = defaultdict(Decimal)
    per_day: list[dict[str, Any]] = []
    days = (
        DailyRevenue.objects.values("day", "currency")
        .annotate(paid_orders=Sum("paid_orders"), amount=Sum("amount"))
        .order_by("day", "currency")
    )
    for row in days:
        per_currency[row["currency"]] += row["amount"]
        per_day.append(
            {
                "day": row["day"].isoformat(),
                "currency": row["currency"],
                "paid_orders": row["paid_orders"],
                "amount": format_amount(row["amount"], row["currency"]),
            }
        )
    return {
        "per_currency": {
            currency: format_amount(amount, currency)
            for currency, amount in sorted(per_currency.items())
        },
        "per_day": per_day,
    }


def nearest_rank(measured: QuerySet[OrderSummary], column: str, share: float, count: int) -> Any:
    """The ``share`` percentile of ``column`` among ``count`` rows, by the nearest-rank
    definition: the smallest value at or above that share of the values (one indexed query)."""
    rank = math.ceil(share * count)
    return measured.order_by(column).values_list(column, flat=True)[rank - 1]


def _duration_stats(column: str) -> dict[str, Any]:
    """Count, mean and 95th percentile (nearest rank) of a duration column, in seconds."""
    measured: QuerySet[OrderSummary] = OrderSummary.objects.filter(**{f"{column}__isnull": False})
    summary = measured.aggregate(count=Count("order_id"), mean=Avg(column))
    count = summary["count"]
    if not count:
        return {"count": 0, "mean_seconds": None, "p95_seconds": None}
    p95 = nearest_rank(measured, column, 0.95, count)
    return {
        "count": count,
        "mean_seconds": round(float(summary["mean"]) / 1000, 3),
        "p95_seconds": round(p95 / 1000, 3),
    }
