"""Loading payments for change."""

from __future__ import annotations

import uuid

from django.db import connection

from apps.payments.errors import PaymentNotFound
from apps.payments.models import Payment


def lock_payment_of(order_id: uuid.UUID) -> Payment | None:
    """The order's payment, its row locked until the transaction ends; None when there is none."""
    rows = Payment.objects.filter(order_id=order_id)
    if connection.features.has_select_for_update:
        rows = rows.select_for_update()
    return rows.first()


def order_of_reference(provider_reference: str) -> uuid.UUID:
    """The order paid by the payment the provider knows as ``provider_reference``."""
    order_id = (
        Payment.objects.filter(provider_reference=provider_reference)
        .values_list("order_id", flat=True)
        .first()
    )
    if order_id is None:
        raise PaymentNotFound(
            f"No payment has the provider reference {provider_reference!r}.",
            provider_reference=provider_reference,
        )
    return order_id
