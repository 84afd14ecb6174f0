"""The payment commands in an order's ``allowed_actions`` (``pay``, ``refund``), decided from the
order's state and its payment section by the rules ``PaymentService`` enforces (registered in
``PaymentsConfig.ready``)."""

from __future__ import annotations

from decimal import Decimal

from apps.orders import lifecycle
from apps.orders.actions import ActionRule, OrderAtHand
from apps.payments.models import Payment
from apps.payments.state_machine import PaymentStatus, can_transition


def payment_would_be_submitted(order: OrderAtHand) -> bool:
    """``pay`` would hand the payment to the provider: the order can still become PAID and its
    payment is not with the provider yet (paying again then answers the payment unchanged)."""
    if not lifecycle.can_be_paid_in(order.state):
        return False
    payment = order.section("payment")
    return payment is None or can_transition(payment["status"], PaymentStatus.SUBMITTED)


def money_left_to_refund(order: OrderAtHand) -> bool:
    """``refund`` would be accepted for at least the smallest amount: the payment captured
    money that is neither refunded nor being refunded (``Payment.refundable``, the rule the
    refund is checked against)."""
    payment = order.section("payment")
    if payment is None:
        return False
    captured = Payment(
        status=payment["status"],
        amount=Decimal(payment["amount"]),
        amount_refunded=Decimal(payment["refunded_amount"]),
        amount_refund_pending=Decimal(payment["refund_pending_amount"]),
    )
    return captured.refundable > 0


PAY = ActionRule(name="pay", staff_only=False, possible=payment_would_be_submitted)
REFUND = ActionRule(name="refund", staff_only=True, possible=money_left_to_refund)
