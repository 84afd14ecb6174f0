"""Celery tasks of the event delivery machinery."""

from __future__ import annotations

from celery import shared_task

from apps.events.dispatcher import sweep
from apps.events.runner import run_delivery


@shared_task(
    name="events.run_delivery",
    acks_late=True,
    # A worker killed mid-task gives the message back to the broker instead of losing it; the
    # row lock and the succeeded mark make the second run a no-op if the first one committed.
    reject_on_worker_lost=True,
    ignore_result=True,
)
def run_delivery_task(delivery_id: int) -> str:
    return str(run_delivery(delivery_id))


@shared_task(name="events.sweep_deliveries", ignore_result=True)
def sweep_deliveries_task() -> int:
    return sweep()
