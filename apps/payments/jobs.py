"""Payments' periodic job (run by the embedded worker or Celery beat: apps/events/periodic.py)."""

from __future__ import annotations

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.payments.services import PaymentService


@periodic_job("payments.expire_overdue", every_seconds=settings.OMS_PAYMENT_EXPIRY_INTERVAL_SECONDS)
def expire_overdue_payments() -> int:
    """Expire bank transfers past their deadline, failing their orders."""
    return PaymentService().expire_overdue()
