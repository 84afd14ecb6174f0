"""Read models of orders, applied in the transaction of the command that appends the event
(see apps/events/projection.py).

* ``order_summary``: one row per order (state, totals, item count, payment and shipment status,
  milestone timestamps) plus paid revenue per day and currency. List endpoints and statistics
  read these.
* ``order_history``: one row per state change, behind ``GET /orders/{id}/history/``.

Payment and shipment events are read by name, so orders never imports those apps.

Both are idempotent: replaying an event already applied changes nothing, which is what lets
``rebuild_projections`` replay the whole log and lets a delivery run twice.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Value
from django.db.models.functions import Greatest

from apps.events.models import StoredEvent
from apps.events.projection import Projection, projection
from apps.orders.events import (
    ORDER_AGGREGATE,
    TRANSITION_EVENT_TYPES,
    OrderCancelled,
    OrderCreated,
    OrderDelivered,
    OrderPaid,
    OrderProcessingStarted,
    OrderShipped,
    PaymentFailed,
)
from apps.orders.models import DailyRevenue, OrderStateChange, OrderSummary
from shared import rows

STATS_CACHE_KEY = "orders:stats:v1"

# Statuses shown for the payment and the shipment of an order, by the event that sets them.
PAYMENT_STATUS_BY_EVENT: dict[str, str] = {
    "PaymentRequested": "requested",
    "PaymentSubmitted": "submitted",
    "PaymentAuthorized": "authorized",
    "PaymentSucceeded": "succeeded",
    "PaymentDeclined": "declined",
    "PaymentExpired": "expired",
    "PaymentRefunded": "refunded",
    "PaymentVoided": "voided",
}
# The payment's refund events whose ``refunded_total`` (or, for a payment all refunded, whose
# ``amount``) is what the order has had given back.
REFUNDED_TOTAL_BY_EVENT: dict[str, str] = {
    "RefundSucceeded": "refunded_total",
    "PaymentRefunded": "amount",
}
PAYMENT_EVENTS = frozenset(PAYMENT_STATUS_BY_EVENT) | frozenset(REFUNDED_TOTAL_BY_EVENT)
SHIPMENT_STATUS_BY_EVENT: dict[str, str] = {
    "ShipmentRequested": "requested",
    "ShipmentShipped": "shipped",
    "ShipmentDelivered": "delivered",
}

MILESTONES: dict[str, str] = {
    OrderPaid.event_type: "paid_at",
    OrderProcessingStarted.event_type: "processing_at",
    OrderShipped.event_type: "shipped_at",
    OrderDelivered.event_type: "delivered_at",
    OrderCancelled.event_type: "cancelled_at",
    PaymentFailed.event_type: "failed_at",
}


class SummaryMissing(LookupError):
    """An event about an order whose OrderCreated was never applied: the log is inconsistent."""


def _milliseconds(start: datetime, end: datetime) -> int:
    return int((end - start).total_seconds() * 1000)


@projection
class OrderSummaryProjection(Projection):
    name = "order_summary"
    event_types = frozenset(
        {OrderCreated.event_type, *TRANSITION_EVENT_TYPES}
        | set(PAYMENT_STATUS_BY_EVENT)
        | set(REFUNDED_TOTAL_BY_EVENT)
        | set(SHIPMENT_STATUS_BY_EVENT)
    )

    def apply(self, event: StoredEvent) -> None:
        if event.event_type == OrderCreated.event_type:
            self._create(event)
        elif event.aggregate_type == ORDER_AGGREGATE:
            self._transition(event)
        elif event.event_type in PAYMENT_EVENTS:
            self._set_status(event, "payment", PAYMENT_STATUS_BY_EVENT.get(event.event_type))
        elif event.event_type in SHIPMENT_STATUS_BY_EVENT:
            self._set_status(event, "shipment", SHIPMENT_STATUS_BY_EVENT[event.event_type])
        transaction.on_commit(lambda: cache.delete(STATS_CACHE_KEY))

    def reset(self) -> None:
        OrderSummary.objects.all().delete()
        DailyRevenue.objects.all().delete()

    def _create(self, event: StoredEvent) -> None:
        payload = event.payload
        rows.insert(
            [
                OrderSummary(
                    order_id=event.aggregate_id,
                    customer_id=payload["customer_id"],
                    state=payload["state"],
                    currency=payload["currency"],
                    total=Decimal(payload["total"]),
                    # Events from before shipping was charged carry the total alone.
                    subtotal=Decimal(payload.get("subtotal") or payload["total"]),
                    shipping_total=Decimal(payload.get("shipping_total") or 0),
                    item_count=sum(int(line["quantity"]) for line in payload["items"]),
                    line_count=len(payload["items"]),
                    payment_method=payload.get("payment_method", ""),
                    shipping_method=payload.get("shipping_method", ""),
                    created_at=event.occurred_at,
                    updated_at=event.occurred_at,
                    order_version=event.version,
                    last_sequence=event.sequence,
                )
            ],
            ignore_conflicts=True,  # a replay of OrderCreated finds the row and changes nothing
        )

    def _locked_row(self, order_id: Any) -> OrderSummary:
        row = OrderSummary.objects.select_for_update().filter(order_id=order_id).first()
        if row is None:
            raise SummaryMissing(f"no summary for order {order_id}")
        return row

    def _transition(self, event: StoredEvent) -> None:
        row = self._locked_row(event.aggregate_id)
        changed: set[str] = set()
        if event.version > row.order_version:
            row.state = event.payload["to_state"]
            row.order_version = event.version
            row.updated_at = max(row.updated_at, event.occurred_at)
            changed |= {"state", "order_version", "updated_at"}
        milestone = MILESTONES.get(event.event_type)
        # Milestones are kept even when a later event overtook this one (retries reorder).
        if milestone and getattr(row, milestone) is None:
            setattr(row, milestone, event.occurred_at)
            changed.add(milestone)
            if event.event_type == OrderPaid.event_type:
                self._add_revenue(row, event)
            if event.event_type == OrderShipped.event_type:
                row.carrier = event.payload.get("carrier", "")
                row.tracking_number = event.payload.get("tracking_number", "")
                changed |= {"carrier", "tracking_number"}
        changed |= self._durations(row)
        if changed:
            row.last_sequence = max(row.last_sequence, event.sequence)
            row.save(update_fields=[*sorted(changed), "last_sequence"])

    @staticmethod
    def _durations(row: OrderSummary) -> set[str]:
        changed = set()
        if row.paid_at and row.ms_to_payment is None:
            row.ms_to_payment = _milliseconds(row.created_at, row.paid_at)
            changed.add("ms_to_payment")
        if row.paid_at and row.delivered_at and row.ms_payment_to_delivery is None:
            row.ms_payment_to_delivery = _milliseconds(row.paid_at, row.delivered_at)
            changed.add("ms_payment_to_delivery")
        return changed

    @staticmethod
    def _add_revenue(row: OrderSummary, event: StoredEvent) -> None:
        amount = Decimal(event.payload.get("amount") or row.total)
        table = connection.ops.quote_name(DailyRevenue._meta.db_table)
        # One statement, no read first: the stripe's row is created or added to atomically.
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (day, currency, stripe, paid_orders, amount) "
                "VALUES (%s, %s, %s, 1, %s) "
                "ON CONFLICT (day, currency, stripe) DO UPDATE SET "
                f"paid_orders = {table}.paid_orders + 1, amount = {table}.amount + EXCLUDED.amount",
                [
                    event.occurred_at.date(),
                    row.currency,
                    uuid.UUID(str(row.order_id)).int % DailyRevenue.STRIPES,
                    amount,
                ],
            )

    def _set_status(self, event: StoredEvent, kind: str, status: str | None) -> None:
        order_id = event.payload.get("order_id")
        if not order_id:
            return
        version_field = f"{kind}_version"
        values: dict[str, Any] = {
            version_field: event.version,
            "last_sequence": Greatest(F("last_sequence"), Value(event.sequence)),
        }
        if status is not None:
            values[f"{kind}_status"] = status
        refunded = REFUNDED_TOTAL_BY_EVENT.get(event.event_type)
        if refunded and event.payload.get(refunded) is not None:
            values["refunded_total"] = Decimal(event.payload[refunded])
        if kind == "shipment" and event.payload.get("tracking_number"):
            values["tracking_number"] = event.payload["tracking_number"]
            values["carrier"] = event.payload.get("carrier") or F("carrier")
        # One guarded UPDATE, no read: a payment's or shipment's events often come two in one
        # transaction (requested, then submitted), and the row is the order's alone. An event
        # older than the one already applied matches no row, as does a missing summary.
        rows = OrderSummary.objects.filter(
            order_id=order_id, **{f"{version_field}__lt": event.version}
        )
        if (
            rows.update(**values) == 0
            and not OrderSummary.objects.filter(order_id=order_id).exists()
        ):
            raise SummaryMissing(f"no summary for order {order_id}")


@projection
class OrderHistoryProjection(Projection):
    name = "order_history"
    event_types = frozenset({OrderCreated.event_type, *TRANSITION_EVENT_TYPES})

    def apply(self, event: StoredEvent) -> None:
        payload = event.payload
        rows.insert(
            [
                OrderStateChange(
                    event_id=event.event_id,
                    order_id=event.aggregate_id,
                    sequence=event.sequence,
                    event_type=event.event_type,
                    from_state=payload.get("from_state"),
                    to_state=payload.get("to_state") or payload["state"],
                    at=event.occurred_at,
                    actor=event.metadata.get("user_id"),
                    reason=payload.get("reason", ""),
                )
            ],
            ignore_conflicts=True,  # keyed by event id: a replay inserts nothing
        )

    def reset(self) -> None:
        OrderStateChange.objects.all().delete()
