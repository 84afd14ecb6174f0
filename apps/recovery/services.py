"""Stuck orders: noticed past a deadline per state, and moved on by asking again.

======================  ============================================  ==============================
stuck in                past (setting)                                recovery
======================  ============================================  ==============================
PENDING, payment        ``OMS_STUCK_PAYMENT_MINUTES`` since creation  ask the provider again
submitted/authorized    (bank transfers excluded: they expire)
PAID                    ``OMS_STUCK_PAID_MINUTES`` since payment      request the shipment again
PROCESSING              ``OMS_STUCK_PICKUP_HOURS`` since processing   ask the carrier
CANCELLED or FAILED,    ``OMS_STUCK_REFUND_MINUTES`` since then       ask for the rest back again
money not given back
======================  ============================================  ==============================

Every recovery is a service call that is safe to repeat (the shipment is requested once per
order whatever asks; the provider's and carrier's answers go through the calls their webhooks
make; a refund asks only for what is neither refunded nor being refunded), and each stuck order
gets at most ``OMS_STUCK_MAX_ATTEMPTS`` of them. What stays stuck is listed for staff
(``GET /api/v1/stuck-orders/``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings

from apps.orders import queries as orders
from apps.orders.commands import Actor
from apps.payments import queries as payments
from apps.payments.commands import RefundPayment
from apps.payments.services import PaymentService
from apps.recovery.models import StuckOrder, StuckReason
from apps.shipping.commands import CreateShipment
from apps.shipping.services import ShippingService
from shared import clock
from shared.exceptions import DomainError

logger = logging.getLogger(__name__)

BANK_TRANSFER = "bank_transfer"
AWAITING_PROVIDER = ("submitted", "authorized")


def _moved_on(stuck: StuckOrder, state: str | None) -> bool:
    return state != stuck.state


def _money_back(stuck: StuckOrder, state: str | None) -> bool:
    return not payments.money_left_to_give_back(stuck.order_id)


@dataclass(frozen=True)
class Rule:
    reason: StuckReason
    state: str
    deadline: Callable[[], timedelta]
    recover: Callable[[uuid.UUID], str]
    # Which orders in ``state`` the rule watches (by their payment).
    payment_statuses: tuple[str, ...] | None = None
    excluding_payment_methods: tuple[str, ...] = ()
    # Whether a stuck order is no longer stuck, given its current state.
    resolved: Callable[[StuckOrder, str | None], bool] = _moved_on


def _ask_provider(order_id: uuid.UUID) -> str:
    corrections = PaymentService().reconcile_order(order_id)
    if not corrections:
        return "the provider has no answer yet"
    return "; ".join(
        c.action if c.applied else f"{c.action} refused: {c.detail}" for c in corrections
    )


def _request_shipment(order_id: uuid.UUID) -> str:
    shipment = ShippingService().create_shipment(
        CreateShipment(order_id=order_id, actor=Actor.system(), idempotency_key=None)
    )
    return "shipment requested" if shipment is not None else "no shipment: the order moved on"


def _ask_carrier(order_id: uuid.UUID) -> str:
    return f"the carrier says: {ShippingService().ask_carrier(order_id)}"


def _ask_money_back(order_id: uuid.UUID) -> str:
    """A cancelled (or failed) order whose money did not all come back: a refund the provider
    refused, say. What is neither refunded nor being refunded is asked for again."""
    PaymentService().refund(
        RefundPayment(
            order_id=order_id, actor=Actor.system(), reason="asked again: money not given back"
        )
    )
    if payments.money_left_to_give_back(order_id):
        return "the rest could not be asked back"
    return "the rest asked back"


RULES = (
    Rule(
        StuckReason.PAYMENT_UNANSWERED,
        "PENDING",
        lambda: timedelta(minutes=settings.OMS_STUCK_PAYMENT_MINUTES),
        _ask_provider,
        payment_statuses=AWAITING_PROVIDER,
        excluding_payment_methods=(BANK_TRANSFER,),
    ),
    Rule(
        StuckReason.NOT_SHIPPED,
        "PAID",
        lambda: timedelta(minutes=settings.OMS_STUCK_PAID_MINUTES),
        _request_shipment,
    ),
    Rule(
        StuckReason.NOT_PICKED_UP,
        "PROCESSING",
        lambda: timedelta(hours=settings.OMS_STUCK_PICKUP_HOURS),
        _ask_carrier,
    ),
    *(
        Rule(
            StuckReason.MONEY_NOT_RETURNED,
            ended,
            lambda: timedelta(minutes=settings.OMS_STUCK_REFUND_MINUTES),
            _ask_money_back,
            payment_statuses=("succeeded",),
            resolved=_money_back,
        )
        for ended in ("CANCELLED", "FAILED")
    ),
)


def rule_of(stuck: StuckOrder) -> Rule:
    return next(rule for rule in RULES if rule.reason == stuck.reason and rule.state == stuck.state)


def waiting_orders(moment: datetime, limit: int = 500) -> list[tuple[orders.WaitingOrder, Rule]]:
    """Orders past their rule's deadline now, oldest first within each rule."""
    found: list[tuple[orders.WaitingOrder, Rule]] = []
    for rule in RULES:
        waiting = orders.orders_waiting(
            rule.state,
            entered_before=moment - rule.deadline(),
            payment_statuses=rule.payment_statuses,
            excluding_payment_methods=rule.excluding_payment_methods,
            limit=limit,
        )
        if rule.resolved is _money_back:
            # The payment says "succeeded" while refunds are under way: only those with money
            # neither refunded nor being refunded are stuck.
            left = payments.orders_with_money_left([w.order_id for w in waiting])
            waiting = [w for w in waiting if w.order_id in left]
        found.extend((order, rule) for order in waiting)
    return found


@dataclass
class RecoveryReport:
    noticed: int = 0
    attempted: int = 0
    resolved: list[uuid.UUID] = field(default_factory=list)
    unresolved: list[StuckOrder] = field(default_factory=list)


def resolve_stuck_orders(*, now: datetime | None = None, limit: int = 500) -> RecoveryReport:
    """Notice orders past their deadline, try to move each on, and close what moved on."""
    moment = now or clock.now()
    report = RecoveryReport()
    _close_what_moved_on(moment, report)
    for waiting, rule in waiting_orders(moment, limit):
        report.noticed += _notice(waiting, rule, moment)
    for stuck in StuckOrder.objects.filter(
        resolved_at__isnull=True, attempts__lt=settings.OMS_STUCK_MAX_ATTEMPTS
    )[:limit]:
        _attempt(stuck, moment, report)
    report.unresolved = list(StuckOrder.objects.filter(resolved_at__isnull=True)[:limit])
    return report


def _close_what_moved_on(moment: datetime, report: RecoveryReport) -> None:
    open_rows = list(StuckOrder.objects.filter(resolved_at__isnull=True))
    states = orders.states_of(row.order_id for row in open_rows)
    moved = [
        row.order_id for row in open_rows if rule_of(row).resolved(row, states.get(row.order_id))
    ]
    if moved:
        StuckOrder.objects.filter(order_id__in=moved).update(resolved_at=moment)
        report.resolved.extend(moved)


def _notice(waiting: orders.WaitingOrder, rule: Rule, moment: datetime) -> int:
    existing = StuckOrder.objects.filter(order_id=waiting.order_id).first()
    if existing is not None and existing.state == waiting.state:
        if existing.resolved_at is None:
            return 0  # already known
        # Stuck again in the same state (a refund asked again was refused again): open, with
        # the attempts already spent, so that the tries stay bounded.
        existing.resolved_at = None
        existing.noticed_at = moment
        existing.save(update_fields=["resolved_at", "noticed_at"])
        return 1
    StuckOrder.objects.update_or_create(
        order_id=waiting.order_id,
        defaults={
            "reason": rule.reason,
            "state": waiting.state,
            "since": waiting.since,
            "noticed_at": moment,
            "attempts": 0,
            "last_attempt_at": None,
            "last_outcome": "",
            "resolved_at": None,
        },
    )
    return 1


def _attempt(stuck: StuckOrder, moment: datetime, report: RecoveryReport) -> None:
    rule = rule_of(stuck)
    try:
        outcome = rule.recover(stuck.order_id)
    except DomainError as exc:
        outcome = f"refused: {exc.detail}"
    except Exception as exc:
        # A provider or carrier that cannot be reached: counted as a try, and the next order
        # is tried all the same.
        logger.exception("recovery of order %s failed", stuck.order_id)
        outcome = f"failed: {type(exc).__name__}: {exc}"
    report.attempted += 1
    stuck.attempts += 1
    stuck.last_attempt_at = moment
    stuck.last_outcome = outcome[:2000]
    if rule.resolved(stuck, orders.states_of([stuck.order_id]).get(stuck.order_id)):
        stuck.resolved_at = moment
        report.resolved.append(stuck.order_id)
    stuck.save()
    logger.info(
        "stuck order %s (%s): %s",
        "resolved" if stuck.resolved_at else "still stuck",
        stuck.reason,
        outcome,
        extra={"order_id": str(stuck.order_id)},
    )
