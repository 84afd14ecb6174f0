"""Celery tasks of payments."""

from __future__ import annotations

from celery import shared_task

from apps.payments.services import PaymentService


@shared_task(name="payments.expire_overdue", ignore_result=True)
def expire_overdue_task() -> int:
    """Expire bank transfers past their deadline (scheduled by Celery beat)."""
    return PaymentService().expire_overdue()
