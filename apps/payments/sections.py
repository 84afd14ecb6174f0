"""The payment section of the order representation (registered in ``PaymentsConfig.ready``)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from django.db.models.expressions import RawSQL

from apps.orders.sections import ORDER_ID_COLUMN, SectionProvider
from apps.payments.models import Payment
from shared.json_rows import instance_from_json, row_as_json_subquery
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


def payment_sections(order_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    """The payments of ``order_ids`` in one query."""
    return {
        payment.order_id: section_of(payment)
        for payment in Payment.objects.filter(order_id__in=order_ids).only(*FIELDS)
    }


def payment_subquery() -> RawSQL:
    """The order's payment (at most one: ``order_id`` is unique) as a JSON object, or NULL."""
    return row_as_json_subquery(Payment, FIELDS, where_column="order_id", equals=ORDER_ID_COLUMN)


def payment_from_json(data: Mapping[str, Any] | str) -> dict[str, Any]:
    return section_of(instance_from_json(Payment, data))


PROVIDER = SectionProvider(
    for_orders=payment_sections, subquery=payment_subquery, from_json=payment_from_json
)
