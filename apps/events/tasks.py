"""Celery tasks that run the subscriptions on any number of workers and machines.

Celery beat sends ``events.dispatch_subscriptions`` every ``OMS_SUBSCRIPTION_DISPATCH_SECONDS``:
it sends one ``events.drain_segment`` task per (subscription, segment) that has work and was not
sent one within the lease. A drain task runs batches of its segment until it is idle or its time
is up; two tasks for one segment never run it at once (the checkpoint row lock). Workers keep
their database connection between tasks (``DATABASE_CONN_MAX_AGE``).

Nothing is sent from a request: a committed event waits in the log until a dispatch finds it.
A task lost with a killed worker or a broker costs only latency: the lease expires and the next
dispatch sends another, and the segment's checkpoint says where to go on.
"""

from __future__ import annotations

import time
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.db.models import Q

from apps.events import periodic, subscriptions
from apps.events.models import SubscriptionCheckpoint
from shared import clock


@shared_task(name="events.dispatch_subscriptions", ignore_result=True)
def dispatch_subscriptions_task() -> int:
    """Send a drain task for every segment with work; returns how many were sent."""
    moment = clock.now()
    lease = moment - timedelta(seconds=settings.OMS_SUBSCRIPTION_DISPATCH_LEASE_SECONDS)
    sent = 0
    for key in subscriptions.all_segments():
        if not subscriptions.has_work(key, moment):
            continue
        leased = SubscriptionCheckpoint.objects.filter(
            Q(dispatched_at__isnull=True) | Q(dispatched_at__lte=lease),
            subscription=key.subscription,
            segment=key.segment,
        ).update(dispatched_at=moment)
        # No row yet (a segment never run) or the lease was free: send. A row leased to a task
        # still in the queue or running is left alone.
        exists = SubscriptionCheckpoint.objects.filter(
            subscription=key.subscription, segment=key.segment
        ).exists()
        if leased or not exists:
            drain_segment_task.apply_async(args=(key.subscription, key.segment))
            sent += 1
    return sent


@shared_task(
    name="events.drain_segment",
    acks_late=True,
    # A worker killed mid-task gives the message back; the batch it was in rolled back, and the
    # checkpoint makes the rerun start where the last committed batch ended.
    reject_on_worker_lost=True,
    ignore_result=True,
)
def drain_segment_task(subscription: str, segment: int) -> int:
    """Run ``segment`` of ``subscription`` until idle or out of time; returns events handled."""
    deadline = time.monotonic() + settings.OMS_SUBSCRIPTION_DRAIN_SECONDS
    handled = 0
    try:
        while time.monotonic() < deadline:
            done = subscriptions.run_segment(subscription, segment)
            handled += done
            if done == 0:
                break
    finally:
        # Free the lease: the next dispatch may send another task at once if work is left.
        SubscriptionCheckpoint.objects.filter(subscription=subscription, segment=segment).update(
            dispatched_at=None
        )
    return handled


@shared_task(name=periodic.RUN_PERIODIC_JOB_TASK, ignore_result=True)
def run_periodic_job_task(name: str) -> None:
    """Run one app's periodic job (beat sends it at the job's interval, see periodic.py)."""
    periodic.run_job(name)
