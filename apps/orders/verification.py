"""Checking the write model and the read models against the event log (the source of truth).

Other apps add checks of what they keep about an order (its payment's money, say) with
:func:`register_check`; orders does not import them.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from apps.events.models import StoredEvent
from apps.orders.aggregate import CorruptEventStream, OrderSnapshot, fold
from apps.orders.events import ORDER_AGGREGATE
from apps.orders.models import Order, OrderSummary


@dataclass(frozen=True)
class Mismatch:
    order_id: uuid.UUID
    where: str  # "events", "order", "summary", or what a registered check names
    detail: str

    def __str__(self) -> str:
        return f"order {self.order_id} [{self.where}]: {self.detail}"


def _order_ids(batch_size: int) -> Iterator[list[uuid.UUID]]:
    """Every order id known to the log or to the write model, handed out in batches.

    The ids themselves are collected up front (16 bytes each: 1M orders is a few dozen MB); the
    events and rows they lead to are read one batch at a time.
    """
    ids = set(
        StoredEvent.objects.filter(aggregate_type=ORDER_AGGREGATE)
        .values_list("aggregate_id", flat=True)
        .distinct()
    ) | set(Order.objects.values_list("id", flat=True))
    ordered = sorted(ids)
    for start in range(0, len(ordered), batch_size):
        yield ordered[start : start + batch_size]


# A check of a batch of orders: their ids, rows and summaries, giving what differs.
Check = Callable[
    [list[uuid.UUID], dict[uuid.UUID, Order], dict[uuid.UUID, OrderSummary]], Iterator[Mismatch]
]
_checks: dict[str, Check] = {}


def register_check(name: str, check: Check) -> None:
    """Run ``check`` on every batch of orders that :func:`verify` compares."""
    _checks[name] = check


def verify(batch_size: int = 500) -> Iterator[Mismatch]:
    """Fold every order's events and compare with the order row and its summary row, then run
    the registered checks."""
    for ids in _order_ids(batch_size):
        events: dict[uuid.UUID, list[StoredEvent]] = defaultdict(list)
        for stored in StoredEvent.objects.filter(
            aggregate_type=ORDER_AGGREGATE, aggregate_id__in=ids
        ).order_by("aggregate_id", "version"):
            events[stored.aggregate_id].append(stored)
        orders = Order.objects.in_bulk(ids)
        summaries = OrderSummary.objects.in_bulk(ids)
        for order_id in ids:
            yield from _compare(order_id, events.get(order_id, []), orders, summaries)
        for check in _checks.values():
            yield from check(ids, orders, summaries)


def _compare(
    order_id: uuid.UUID,
    events: list[StoredEvent],
    orders: dict[uuid.UUID, Order],
    summaries: dict[uuid.UUID, OrderSummary],
) -> Iterator[Mismatch]:
    if not events:
        yield Mismatch(order_id, "events", "the order has no events")
        return
    try:
        snapshot = fold((e.version, e.envelope().event) for e in events)
    except CorruptEventStream as exc:
        yield Mismatch(order_id, "events", f"the events do not fold: {exc}")
        return
    order = orders.get(order_id)
    if order is None:
        yield Mismatch(order_id, "order", "events exist but the order row is missing")
    else:
        yield from _differences(
            order_id, "order", snapshot, order.state, order.version, order.total, order.currency
        )
        yield from _parts(order_id, "order", snapshot, order.subtotal, order.shipping_total)
    summary = summaries.get(order_id)
    if summary is None:
        yield Mismatch(order_id, "summary", "the summary row is missing")
    else:
        yield from _differences(
            order_id,
            "summary",
            snapshot,
            summary.state,
            summary.order_version,
            summary.total,
            summary.currency,
        )
        yield from _parts(order_id, "summary", snapshot, summary.subtotal, summary.shipping_total)


def _differences(
    order_id: uuid.UUID,
    where: str,
    snapshot: OrderSnapshot,
    state: str,
    version: int,
    total: object,
    currency: str,
) -> Iterator[Mismatch]:
    expected = {
        "state": snapshot.state,
        "version": snapshot.version,
        "total": snapshot.total,
        "currency": snapshot.currency,
    }
    actual = {"state": state, "version": version, "total": total, "currency": currency}
    for field, value in expected.items():
        if actual[field] != value:
            yield Mismatch(order_id, where, f"{field} is {actual[field]!r}, events say {value!r}")


def _parts(
    order_id: uuid.UUID, where: str, snapshot: OrderSnapshot, subtotal: object, shipping: object
) -> Iterator[Mismatch]:
    """The subtotal and shipping as the events say, and the total their sum."""
    if subtotal != snapshot.subtotal:
        yield Mismatch(
            order_id, where, f"subtotal is {subtotal!r}, events say {snapshot.subtotal!r}"
        )
    if shipping != snapshot.shipping_total:
        yield Mismatch(
            order_id,
            where,
            f"shipping_total is {shipping!r}, events say {snapshot.shipping_total!r}",
        )
    if snapshot.subtotal + snapshot.shipping_total != snapshot.total:
        yield Mismatch(order_id, "events", "the total is not the subtotal plus the shipping")
