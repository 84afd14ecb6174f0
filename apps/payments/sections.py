"""The payment section of the order representation (registered in ``PaymentsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from apps.orders.sections import provider_for
from apps.payments.models import Payment
from shared.money import format_amount

FIELDS = (
    "id",
    "order_id",
    "method",
    "status",
    "amount",
    "currency",
    "provider_reference",
    "approval_url",
    "expires_at",
    "failure_reason",
    "updated_at",
)


def section_of(payment: Payment) -> dict[str, Any]:
    return {
        "id": str(payment.id),
        "method": payment.method,
        "status": payment.status,
        "amount": format_amount(payment.amount, payment.currency),
        "currency": payment.currency,
        "provider_reference": payment.provider_reference,
        "approval_url": payment.approval_url or None,
        "expires_at": payment.expires_at.isoformat() if payment.expires_at else None,
        "failure_reason": payment.failure_reason,
        "updated_at": payment.updated_at.isoformat(),
    }


PROVIDER = provider_for(Payment, FIELDS, section_of)
