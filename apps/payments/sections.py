"""The payment section of the order representation (registered in ``PaymentsConfig.ready``)."""

from __future__ import annotations

from typing import Any

from apps.orders.sections import provider_for, provider_for_many
from apps.payments.api.v1.serializers import PaymentSectionOutputSerializer, RefundOutputSerializer
from apps.payments.models import Payment, Refund
from shared.money import format_amount
from shared.timestamps import optional_utc_text, utc_text

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
    "amount_refunded",
    "amount_refund_pending",
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
        "expires_at": optional_utc_text(payment.expires_at),
        "failure_reason": payment.failure_reason,
        "refunded_amount": format_amount(payment.amount_refunded, payment.currency),
        "refund_pending_amount": format_amount(payment.amount_refund_pending, payment.currency),
        "updated_at": utc_text(payment.updated_at),
    }


PROVIDER = provider_for(Payment, FIELDS, section_of, schema=PaymentSectionOutputSerializer)

REFUND_FIELDS = (
    "id",
    "order_id",
    "amount",
    "currency",
    "status",
    "lines",
    "reason",
    "failure_reason",
    "provider_reference",
    "created_at",
    "settled_at",
)


def refund_entry(refund: Refund) -> dict[str, Any]:
    """A refund as the order's representation and the refunds endpoint show it."""
    return {
        "id": str(refund.id),
        "amount": format_amount(refund.amount, refund.currency),
        "currency": refund.currency,
        "status": refund.status,
        "lines": refund.lines,
        "reason": refund.reason,
        "failure_reason": refund.failure_reason,
        "provider_reference": refund.provider_reference,
        "created_at": utc_text(refund.created_at),
        "settled_at": optional_utc_text(refund.settled_at),
    }


REFUNDS = provider_for_many(
    Refund,
    REFUND_FIELDS,
    refund_entry,
    order_by=("created_at", "id"),
    schema=RefundOutputSerializer,
)
