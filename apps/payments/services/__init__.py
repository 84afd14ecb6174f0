"""The payment service: the one place where payments change.

Each public method is one transaction; the parts live by idea (checkout, giving money back,
expiry) beside what they share (``base.py``). The order row is only locked and read here; orders
change through ``OrderService``.

A provider result that arrives for an order that can no longer take it never moves the order
backwards: money taken for an order that was cancelled (or failed) meanwhile is refunded.
"""

from __future__ import annotations

from apps.payments.services.base import EXPIRED_REASON
from apps.payments.services.expiry import Expiry
from apps.payments.services.reconciliation import (
    Correction,
    Reconciliation,
    ReconciliationReport,
)


class PaymentService(Reconciliation, Expiry):
    """Requests, submits and settles the payment of an order, gives money back, and reconciles
    with the provider."""


__all__ = ["EXPIRED_REASON", "Correction", "PaymentService", "ReconciliationReport"]
