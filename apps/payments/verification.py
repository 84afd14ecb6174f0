"""``verify_event_store``'s check of each order's money: what its payment captured, refunded and
is refunding, folded from the payment's events, against the payment row, its refunds, the
order's total and the order summary (registered in ``PaymentsConfig.ready``)."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count, Sum

from apps.events.models import StoredEvent
from apps.orders.models import Order, OrderSummary
from apps.orders.verification import Mismatch
from apps.payments.events import PAYMENT_AGGREGATE
from apps.payments.models import Payment, Refund, RefundStatus


@dataclass
class MoneyOfPayment:
    """The payment's money as its events tell it."""

    captured: Decimal | None = None
    refunded: Decimal = Decimal(0)
    requested: dict[str, Decimal] = field(default_factory=dict)
    settled: set[str] = field(default_factory=set)
    refunds_succeeded: int = 0

    @property
    def pending(self) -> Decimal:
        return sum(
            (amount for refund, amount in self.requested.items() if refund not in self.settled),
            Decimal(0),
        )


def fold_money(events: list[StoredEvent]) -> MoneyOfPayment:
    money = MoneyOfPayment()
    for event in events:
        payload = event.payload
        kind = event.event_type
        if kind == "PaymentSucceeded":
            money.captured = Decimal(payload["amount"])
        elif kind == "RefundRequested":
            money.requested[payload["refund_id"]] = Decimal(payload["amount"])
        elif kind == "RefundSucceeded":
            money.refunded += Decimal(payload["amount"])
            money.settled.add(payload["refund_id"])
            money.refunds_succeeded += 1
        elif kind == "RefundFailed":
            money.settled.add(payload["refund_id"])
        elif kind == "PaymentRefunded" and payload["refund_id"] not in money.settled:
            # Written before refunds were a ledger: the one refund, of the whole payment.
            money.refunded += Decimal(payload["amount"])
            money.settled.add(payload["refund_id"])
            money.refunds_succeeded += 1
    return money


def check_money(
    ids: list[uuid.UUID],
    orders: dict[uuid.UUID, Order],
    summaries: dict[uuid.UUID, OrderSummary],
) -> Iterator[Mismatch]:
    payments = {payment.order_id: payment for payment in Payment.objects.filter(order_id__in=ids)}
    events: dict[uuid.UUID, list[StoredEvent]] = defaultdict(list)
    for stored in StoredEvent.objects.filter(
        aggregate_type=PAYMENT_AGGREGATE, aggregate_id__in=[p.id for p in payments.values()]
    ).order_by("aggregate_id", "version"):
        events[stored.aggregate_id].append(stored)
    succeeded: dict[uuid.UUID, tuple[Decimal, int]] = {}
    requested: dict[uuid.UUID, Decimal] = {}
    for row in (
        Refund.objects.filter(payment_id__in=[p.id for p in payments.values()])
        .exclude(status=RefundStatus.FAILED)
        .values("payment_id", "status")
        .annotate(total=Sum("amount"), count=Count("id"))
        .order_by()
    ):
        if row["status"] == RefundStatus.SUCCEEDED:
            succeeded[row["payment_id"]] = (row["total"], row["count"])
        else:
            requested[row["payment_id"]] = row["total"]
    for order_id in ids:
        payment = payments.get(order_id)
        summary = summaries.get(order_id)
        if payment is None:
            if summary is not None and summary.refunded_total:
                yield Mismatch(order_id, "summary", "refunds shown for an order without payment")
            continue
        money = fold_money(events.get(payment.id, []))
        yield from _compare(order_id, payment, money, orders.get(order_id), summary, succeeded)
        waiting = requested.get(payment.id, Decimal(0))
        if waiting != money.pending:
            yield Mismatch(
                order_id,
                "payment",
                f"refunds waiting for the provider add up to {waiting!r}, events say "
                f"{money.pending!r}",
            )


def _compare(
    order_id: uuid.UUID,
    payment: Payment,
    money: MoneyOfPayment,
    order: Order | None,
    summary: OrderSummary | None,
    succeeded: dict[uuid.UUID, tuple[Decimal, int]],
) -> Iterator[Mismatch]:
    def differs(what: str, actual: object, expected: object) -> Mismatch:
        return Mismatch(order_id, "payment", f"{what} is {actual!r}, events say {expected!r}")

    if order is not None and payment.amount != order.total:
        yield Mismatch(
            order_id, "payment", f"amount {payment.amount!r} is not the order's {order.total!r}"
        )
    if money.captured is not None and money.captured != payment.amount:
        yield differs("amount captured", payment.amount, money.captured)
    if payment.amount_refunded != money.refunded:
        yield differs("amount_refunded", payment.amount_refunded, money.refunded)
    if payment.amount_refund_pending != money.pending:
        yield differs("amount_refund_pending", payment.amount_refund_pending, money.pending)
    if money.refunded + money.pending > (money.captured or Decimal(0)):
        yield Mismatch(order_id, "events", "more was refunded than the payment captured")
    rows_total, rows_count = succeeded.get(payment.id, (Decimal(0), 0))
    if (rows_total, rows_count) != (money.refunded, money.refunds_succeeded):
        yield differs(
            "refunds succeeded (sum, count)",
            (rows_total, rows_count),
            (money.refunded, money.refunds_succeeded),
        )
    if summary is not None and summary.refunded_total != money.refunded:
        yield Mismatch(
            order_id,
            "summary",
            f"refunded_total is {summary.refunded_total!r}, events say {money.refunded!r}",
        )
