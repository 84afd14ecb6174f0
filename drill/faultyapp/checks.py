"""The drill's checks, read from the drill database after quiescence (runs inside Django).

Each check is a row of the report: a name, what was found, and whether it holds. The runner
prints them, writes them to RELIABILITY.md and exits non-zero when any does not hold.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass
from typing import Any

from django.db.models import Count, F, Q

from apps.events import lag
from apps.events.dead_letters import retry_dead_letters
from apps.events.models import ParkedEvent, ParkedStatus, StoredEvent
from apps.orders.events import ORDER_AGGREGATE
from apps.orders.models import Order
from apps.orders.state_machine import TERMINAL_STATES
from apps.orders.verification import verify
from apps.payments.events import PAYMENT_AGGREGATE
from apps.payments.models import Payment, Refund, RefundStatus
from apps.shipping.events import SHIPMENT_AGGREGATE
from apps.shipping.models import Shipment
from apps.webhooks.models import SimulatedWebhook, WebhookLog, WebhookOutcome

# The order events each final state is reached by, each exactly once (the simulated load never
# cancels, so CANCELLED is not expected; it would show up as an unexpected state).
EXPECTED_ORDER_EVENTS = {
    "DELIVERED": [
        "OrderCreated",
        "OrderPaid",
        "OrderProcessingStarted",
        "OrderShipped",
        "OrderDelivered",
    ],
    "FAILED": ["OrderCreated", "PaymentFailed"],
}
UNSENT_WEBHOOKS = Q(sent_at__isnull=True)


@dataclass(frozen=True)
class Check:
    name: str
    found: str
    ok: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def backlog() -> dict[str, int]:
    """What is still moving: non-terminal orders, events not handled yet by a subscription
    (behind its checkpoint, or parked for a retry), unsent webhooks."""
    return {
        "orders_not_terminal": Order.objects.exclude(state__in=TERMINAL_STATES).count(),
        "events_behind": sum(row.behind for row in lag.status()),
        "events_parked": ParkedEvent.objects.filter(status=ParkedStatus.PARKED).count(),
        "webhooks_unsent": SimulatedWebhook.objects.filter(UNSENT_WEBHOOKS).count(),
        "refunds_unanswered": Refund.objects.filter(status=RefundStatus.REQUESTED).count(),
    }


def wait_for_quiescence(timeout: float, poll: float = 1.0) -> tuple[bool, dict[str, int]]:
    """Wait until nothing moves any more (or ``timeout`` passes); return whether it did."""
    deadline = time.monotonic() + timeout
    while True:
        left = backlog()
        if not any(left.values()):
            return True, left
        if time.monotonic() > deadline:
            return False, left
        time.sleep(poll)


def run_checks(*, expected_orders: int, retry_dead: bool) -> list[Check]:
    """Every check of the drill, in report order."""
    checks: list[Check] = []
    orders = dict(Order.objects.values_list("id", "state"))
    states = Counter(orders.values())
    placed = len(orders)
    checks.append(
        Check("orders placed", f"{placed} of {expected_orders}", placed == expected_orders)
    )
    per_state = ", ".join(f"{state} {n}" for state, n in sorted(states.items())) or "none"
    unexpected = sorted(set(states) - set(EXPECTED_ORDER_EVENTS))
    checks.append(Check("orders per final state", per_state, not unexpected))
    not_terminal = sum(n for state, n in states.items() if state not in TERMINAL_STATES)
    checks.append(Check("orders not terminal", str(not_terminal), not_terminal == 0))

    checks += _delivery_checks(retry_dead)
    checks += _money_checks(orders)
    checks += _event_checks(orders)

    mismatches = [str(m) for m in verify()]
    found = f"{len(mismatches)} mismatches" + (f" (first: {mismatches[0]})" if mismatches else "")
    checks.append(Check("verify_event_store", found, not mismatches))

    checks += _webhook_checks()
    return checks


def _delivery_checks(retry_dead: bool) -> list[Check]:
    segments = lag.status()
    behind = sum(row.behind for row in segments)
    parked = ParkedEvent.objects.filter(status=ParkedStatus.PARKED).count()
    dead_rows = ParkedEvent.objects.filter(status=ParkedStatus.DEAD)
    dead = dead_rows.count()
    dead_handlers = Counter(dead_rows.values_list("subscription", flat=True))
    checks = [
        Check(
            "events behind a subscription or parked",
            f"{behind + parked} ({len(segments)} subscription segments)",
            behind + parked == 0,
        ),
        Check(
            "events dead (dead letters)",
            f"{dead}" + (f" {dict(dead_handlers)}" if dead else ""),
            True,  # dead letters are allowed; the operator retry below must clear them
        ),
    ]
    if retry_dead:
        outcomes = retry_dead_letters() if dead else {}
        left = ParkedEvent.objects.filter(status=ParkedStatus.DEAD).count()
        checks.append(
            Check(
                "dead after operator retry (retry_dead_letters)",
                f"{left}" + (f" (retry: {outcomes})" if outcomes else ""),
                left == 0,
            )
        )
    return checks


def _money_checks(orders: dict[uuid.UUID, str]) -> list[Check]:
    payments = Counter(Payment.objects.values_list("order_id", flat=True))
    not_one = [order for order in orders if payments.get(order, 0) != 1]
    strays = [order for order in payments if order not in orders]
    shipments = Counter(Shipment.objects.values_list("order_id", flat=True))
    over = [order for order, n in shipments.items() if n > 1]
    delivered_without = [
        order for order, state in orders.items() if state == "DELIVERED" and not shipments[order]
    ]
    failed_with = [
        order for order, state in orders.items() if state == "FAILED" and shipments[order]
    ]
    refunds = Counter(
        Refund.objects.exclude(status=RefundStatus.FAILED).values_list("payment_id", flat=True)
    )
    double_refunds = [payment for payment, n in refunds.items() if n > 1]
    # The ledger's own sums: never more given back than captured, and every refund answered.
    over_refunded = Payment.objects.filter(
        amount_refunded__gt=F("amount") - F("amount_refund_pending")
    ).count()
    unanswered = Refund.objects.filter(status=RefundStatus.REQUESTED).count()
    # A refund is requested by a cancellation, or by money arriving for an order that had already
    # failed (an expired bank transfer): at most one refund per such request.
    refund_orders = dict(Payment.objects.filter(id__in=refunds).values_list("id", "order_id"))
    unrequested = [
        payment
        for payment, order in refund_orders.items()
        if orders.get(order) not in ("CANCELLED", "FAILED")
    ]
    return [
        Check(
            "exactly one payment per order",
            f"{sum(payments.values())} payments, {len(not_one)} orders without exactly one"
            + (f", {len(strays)} payments of unknown orders" if strays else ""),
            not not_one and not strays,
        ),
        Check(
            "at most one shipment per order",
            f"{sum(shipments.values())} shipments, {len(over)} orders with more than one, "
            f"{len(delivered_without)} delivered without, {len(failed_with)} failed with one",
            not over and not delivered_without and not failed_with,
        ),
        Check(
            "at most one refund per refund request",
            f"{sum(refunds.values())} refunds, {len(double_refunds)} payments refunded twice, "
            f"{len(unrequested)} without a cancellation or failure, {over_refunded} beyond "
            f"what was captured, {unanswered} unanswered",
            not double_refunds and not unrequested and not over_refunded and not unanswered,
        ),
    ]


def _event_checks(orders: dict[uuid.UUID, str]) -> list[Check]:
    """Versions 1..n without gaps, the row's version is n, each event type once per aggregate."""
    rows: dict[str, dict[uuid.UUID, int]] = {
        ORDER_AGGREGATE: dict(Order.objects.values_list("id", "version")),
        PAYMENT_AGGREGATE: dict(Payment.objects.values_list("id", "version")),
        SHIPMENT_AGGREGATE: dict(Shipment.objects.values_list("id", "version")),
    }
    versions: dict[tuple[str, uuid.UUID], list[int]] = defaultdict(list)
    types: dict[tuple[str, uuid.UUID], Counter[str]] = defaultdict(Counter)
    total = 0
    for aggregate_type, aggregate_id, version, event_type in StoredEvent.objects.values_list(
        "aggregate_type", "aggregate_id", "version", "event_type"
    ).order_by("aggregate_type", "aggregate_id", "version"):
        versions[(aggregate_type, aggregate_id)].append(version)
        types[(aggregate_type, aggregate_id)][event_type] += 1
        total += 1
    gaps, stale_rows, repeated = [], [], []
    for aggregate_type, row_versions in rows.items():
        for aggregate_id, row_version in row_versions.items():
            seen = versions.get((aggregate_type, aggregate_id), [])
            if seen != list(range(1, len(seen) + 1)):
                gaps.append(f"{aggregate_type} {aggregate_id}")
            if len(seen) != row_version:
                stale_rows.append(f"{aggregate_type} {aggregate_id}: row v{row_version}")
    for key, counted in types.items():
        twice = [name for name, n in counted.items() if n > 1]
        if twice:
            repeated.append(f"{key[0]} {key[1]}: {twice}")
    wrong_story = []
    for order_id, state in orders.items():
        expected = EXPECTED_ORDER_EVENTS.get(state)
        counted = types.get((ORDER_AGGREGATE, order_id), Counter())
        if expected is not None and sorted(counted.elements()) != sorted(expected):
            wrong_story.append(f"order {order_id} ({state}): {dict(counted)}")
    orphans = [key for key in versions if key[1] not in rows.get(key[0], {})]

    def first(items: list[str]) -> str:
        return f" (first: {items[0]})" if items else ""

    return [
        Check(
            "event versions per aggregate",
            f"{total} events in {len(versions)} aggregates; {len(gaps)} with gaps, "
            f"{len(stale_rows)} rows not at the last version, {len(orphans)} without a row"
            + first(gaps + stale_rows),
            not gaps and not stale_rows and not orphans,
        ),
        Check(
            "no duplicate events",
            f"{len(repeated)} aggregates with an event type twice" + first(repeated),
            not repeated,
        ),
        Check(
            "order events match the final state",
            f"{len(wrong_story)} orders whose events do not tell their state" + first(wrong_story),
            not wrong_story,
        ),
    ]


def _webhook_checks() -> list[Check]:
    outcomes = Counter(
        dict(
            WebhookLog.objects.order_by()
            .values("outcome")
            .annotate(n=Count("id"))
            .values_list("outcome", "n")
        )
    )
    unsent = SimulatedWebhook.objects.filter(UNSENT_WEBHOOKS).count()
    sent = SimulatedWebhook.objects.count() - unsent
    return [
        Check(
            "webhooks processed / duplicates absorbed / ignored",
            f"{outcomes[WebhookOutcome.PROCESSED]} / {outcomes[WebhookOutcome.DUPLICATE]} / "
            f"{outcomes[WebhookOutcome.IGNORED]}",
            outcomes[WebhookOutcome.PROCESSED] > 0,
        ),
        Check(
            "webhooks failed / rejected",
            f"{outcomes[WebhookOutcome.FAILED]} / {outcomes[WebhookOutcome.REJECTED]} "
            "(failed ones are retried by the sender until applied)",
            outcomes[WebhookOutcome.REJECTED] == 0,
        ),
        Check("simulated webhooks not delivered", f"{unsent} (of {sent + unsent})", unsent == 0),
    ]
