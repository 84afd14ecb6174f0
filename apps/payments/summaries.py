"""The payment section of the order representation (registered in ``PaymentsConfig.ready``)."""

from __future__ import annotations

import uuid
from typing import Any

from apps.payments.models import Payment
from shared.money import format_amount


def payment_summaries(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The payments of ``order_ids`` in one query."""
    return {
        payment.order_id: {
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
        for payment in Payment.objects.filter(order_id__in=order_ids)
    }
