"""What other apps may read about payments (the provider simulator, as a provider would know it).

Read-only, and in plain values: no other app holds a ``Payment`` row.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from apps.payments.models import Payment, Refund
from apps.payments.sections import refund_entry
from shared.money import Money


@dataclass(frozen=True)
class SubmittedPayment:
    """A payment as the provider it was submitted to knows it."""

    order_id: uuid.UUID
    provider_reference: str
    money: Money


def submitted_payment(provider_reference: str) -> SubmittedPayment | None:
    """The payment the provider knows as ``provider_reference``; None if there is none (its
    submission was rolled back)."""
    payment = (
        Payment.objects.filter(provider_reference=provider_reference)
        .only("order_id", "provider_reference", "amount", "currency")
        .first()
    )
    if payment is None:
        return None
    return SubmittedPayment(
        order_id=payment.order_id,
        provider_reference=provider_reference,
        money=Money.of(payment.amount, payment.currency),
    )


def provider_reference_of(payment_id: uuid.UUID) -> str:
    """The reference the provider knows the payment by; "" when it was never submitted."""
    reference = (
        Payment.objects.filter(id=payment_id).values_list("provider_reference", flat=True).first()
    )
    return reference or ""


def order_paid_by(provider_reference: str) -> uuid.UUID | None:
    """The order whose payment the provider knows as ``provider_reference``; None if none."""
    found: uuid.UUID | None = (
        Payment.objects.filter(provider_reference=provider_reference)
        .values_list("order_id", flat=True)
        .first()
    )
    return found


def refunds_of(order_id: uuid.UUID) -> list[dict[str, Any]]:
    """The order's refunds, oldest first, as the API shows them."""
    return [
        refund_entry(refund)
        for refund in Refund.objects.filter(order_id=order_id).order_by("created_at", "id")
    ]


def money_left_to_give_back(order_id: uuid.UUID) -> bool:
    """Whether the order's payment captured money that is neither refunded nor being refunded."""
    return order_id in orders_with_money_left([order_id])


def orders_with_money_left(order_ids: list[uuid.UUID]) -> set[uuid.UUID]:
    """Those of ``order_ids`` whose payment captured money that is neither refunded nor being
    refunded (one query)."""
    # Compared in Python (``Payment.refundable``), as Decimals: SQLite would add the columns
    # as floats.
    payments = Payment.objects.filter(order_id__in=order_ids, status="succeeded").only(
        "order_id", "status", "amount", "amount_refunded", "amount_refund_pending"
    )
    return {payment.order_id for payment in payments if payment.refundable > 0}
