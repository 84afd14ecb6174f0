"""The periodic jobs of recovery (run by the embedded worker or Celery beat alike)."""

from __future__ import annotations

from django.conf import settings

from apps.events.periodic import periodic_job
from apps.payments.services import PaymentService
from apps.recovery.services import resolve_stuck_orders


@periodic_job("recovery.reconcile_payments", every_seconds=settings.OMS_RECONCILE_INTERVAL_SECONDS)
def reconcile_payments() -> int:
    """Apply what the provider knows about open and recent payments and we missed."""
    return len(PaymentService().reconcile().applied)


@periodic_job(
    "recovery.resolve_stuck_orders", every_seconds=settings.OMS_STUCK_CHECK_INTERVAL_SECONDS
)
def resolve_stuck() -> int:
    """Notice orders stuck past their deadline and move them on."""
    return len(resolve_stuck_orders().resolved)
