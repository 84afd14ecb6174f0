"""The embedded worker's share of payment housekeeping (Celery beat runs the same under Celery)."""

from __future__ import annotations

from apps.events.periodic import periodic_job
from apps.payments.services import PaymentService


@periodic_job("payments.expire_overdue", every_seconds=60)
def expire_overdue_payments() -> int:
    """Expire bank transfers past their deadline, failing their orders."""
    return PaymentService().expire_overdue()
